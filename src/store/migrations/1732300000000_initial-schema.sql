-- Up Migration
CREATE SCHEMA IF NOT EXISTS crm_sync;

-- One provider account of one organization (CONTRACT §2). Credentials are AES-256-GCM
-- ciphertext (see src/store/credentials-cipher.ts); nothing else in this table is secret.
CREATE TABLE crm_sync.integrations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key             text NOT NULL UNIQUE,
  organization_id text NOT NULL,
  provider        text NOT NULL,
  name            text NOT NULL,
  enabled         boolean NOT NULL DEFAULT true,
  -- active | paused (an operator or an auth failure paused it; status_reason says why)
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
  status_reason   text,
  paused_until    timestamptz,
  credentials     text NOT NULL,
  config          jsonb NOT NULL,
  config_hash     text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integrations_org_idx ON crm_sync.integrations (organization_id) WHERE enabled;

-- What the CRM's sync-status reads (CONTRACT §4): one row per (integration, CRM entity).
CREATE TABLE crm_sync.sync_links (
  id               bigserial PRIMARY KEY,
  integration_id   uuid NOT NULL REFERENCES crm_sync.integrations (id) ON DELETE CASCADE,
  entity_type      text NOT NULL,
  entity_id        text NOT NULL,
  -- the CRM's own public id of the record (ctc_…, cmp_…), so the CRM can ask by either id
  crm_external_id  text,
  -- the contact's email as last synced, so operators can look a contact up by it
  crm_email        text,
  external_id      text,
  sync_hash        text,
  last_synced_at   timestamptz,
  last_event_id    text,
  last_version     bigint,
  last_updated_at  timestamptz,
  last_error       text,
  -- provider state the connector keeps per record (e.g. Mailchimp tags the CRM owns, member status)
  state            jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sync_links_one_per_entity UNIQUE (integration_id, entity_type, entity_id),
  CONSTRAINT sync_links_one_per_external_id UNIQUE (integration_id, entity_type, external_id)
);
CREATE INDEX sync_links_entity_idx ON crm_sync.sync_links (entity_type, entity_id);
CREATE INDEX sync_links_crm_external_idx ON crm_sync.sync_links (entity_type, crm_external_id);
CREATE INDEX sync_links_crm_email_idx ON crm_sync.sync_links (lower(crm_email)) WHERE crm_email IS NOT NULL;

-- Every sync attempt's outcome, newest first for `crm-sync logs`.
CREATE TABLE crm_sync.sync_log (
  id              bigserial PRIMARY KEY,
  integration_id  uuid REFERENCES crm_sync.integrations (id) ON DELETE CASCADE,
  entity_type     text,
  entity_id       text,
  event_id        text,
  event_type      text,
  action          text NOT NULL,
  result          text NOT NULL,
  external_id     text,
  api_calls       integer NOT NULL DEFAULT 0,
  duration_ms     integer NOT NULL DEFAULT 0,
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_log_integration_time_idx ON crm_sync.sync_log (integration_id, created_at DESC);
CREATE INDEX sync_log_entity_idx ON crm_sync.sync_log (entity_type, entity_id, created_at DESC);

-- The dead-letter store: malformed events (stage ingest) and records that failed permanently or
-- ran out of retries (stage sync). One open row per failure key: a record that fails again
-- updates its row instead of adding a second one.
CREATE TABLE crm_sync.sync_failures (
  id               bigserial PRIMARY KEY,
  failure_key      text NOT NULL,
  stage            text NOT NULL CHECK (stage IN ('ingest', 'sync')),
  integration_id   uuid REFERENCES crm_sync.integrations (id) ON DELETE CASCADE,
  entity_type      text,
  entity_id        text,
  event_id         text,
  event_type       text,
  event            jsonb,
  error_kind       text NOT NULL,
  error_code       text,
  error_message    text NOT NULL,
  error_details    jsonb,
  provider_status  integer,
  attempts         integer NOT NULL DEFAULT 1,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replaying', 'replayed', 'discarded')),
  replay_count     integer NOT NULL DEFAULT 0,
  replayed_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sync_failures_one_open_per_key ON crm_sync.sync_failures (failure_key)
  WHERE status IN ('open', 'replaying');
CREATE INDEX sync_failures_integration_idx ON crm_sync.sync_failures (integration_id, status, created_at DESC);

-- Incremental pull positions per (integration, entity type), for reconciliation.
CREATE TABLE crm_sync.pull_cursors (
  integration_id  uuid NOT NULL REFERENCES crm_sync.integrations (id) ON DELETE CASCADE,
  entity_type     text NOT NULL,
  cursor          text,
  last_pulled_at  timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, entity_type)
);

-- The transactional outbox: the CRM inserts here in the same transaction as its own write; the
-- relay moves rows to the crm-events queue and deletes them only once the enqueue succeeded.
CREATE TABLE crm_sync.outbox (
  id          bigserial PRIMARY KEY,
  event       jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text
);

-- Event ids already routed: a duplicate id is processed once, even after its job was removed.
CREATE TABLE crm_sync.processed_events (
  event_id      text PRIMARY KEY,
  event_type    text NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_events_time_idx ON crm_sync.processed_events (processed_at);

-- Down Migration
DROP SCHEMA crm_sync CASCADE;
