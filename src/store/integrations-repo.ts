import { canonicalJson } from '../engine/sync-hash.js';
import type { Integration, IntegrationConfig, StoredIntegrationConfig } from '../integrations/schema.js';
import type { CredentialsCipher } from './credentials-cipher.js';
import type { DbClient } from './db.js';

/**
 * The one module that reads and writes `crm_sync.integrations`. Statements are named prepared
 * statements, so the hot-path look-up is parsed once per connection. Credentials are only ever
 * stored encrypted and only leave through `loadCredentials`.
 */

/** A pool or a client inside a transaction (`withTransaction`). */
export type Queryable = Pick<DbClient, 'query'>;

export type UpsertAction = 'created' | 'updated' | 'unchanged';

export interface UpsertResult {
  integration: Integration;
  action: UpsertAction;
}

/** `apply` tried to move an existing key to another provider or organization. */
export class IntegrationKeyConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrationKeyConflictError';
  }
}

const COLUMNS = `id, key, organization_id, provider, name, enabled, status, status_reason, paused_until,
  config, created_at, updated_at`;

interface IntegrationRow {
  id: string;
  key: string;
  organization_id: string;
  provider: Integration['provider'];
  name: string;
  enabled: boolean;
  status: Integration['status'];
  status_reason: string | null;
  paused_until: Date | null;
  config: StoredIntegrationConfig;
  created_at: Date;
  updated_at: Date;
}

// Only a changed config writes (the WHERE on config_hash), and only within the same provider and
// organization: links and external ids of one provider account must never be re-pointed. `xmax = 0`
// is how Postgres tells a fresh insert from an ON CONFLICT update in one statement.
const UPSERT_INTEGRATION = `
  INSERT INTO crm_sync.integrations
    (key, organization_id, provider, name, enabled, credentials, config, config_hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (key) DO UPDATE SET
    name = EXCLUDED.name, enabled = EXCLUDED.enabled, credentials = EXCLUDED.credentials,
    config = EXCLUDED.config, config_hash = EXCLUDED.config_hash, updated_at = now()
  WHERE integrations.config_hash IS DISTINCT FROM EXCLUDED.config_hash
    AND integrations.provider = EXCLUDED.provider
    AND integrations.organization_id = EXCLUDED.organization_id
  RETURNING ${COLUMNS}, (xmax = 0) AS inserted`;

const SELECT_BY_KEY = `SELECT ${COLUMNS} FROM crm_sync.integrations WHERE key = $1`;
const SELECT_BY_ID = `SELECT ${COLUMNS} FROM crm_sync.integrations WHERE id = $1`;
const LIST_INTEGRATIONS = `
  SELECT ${COLUMNS} FROM crm_sync.integrations
  WHERE ($1::text IS NULL OR organization_id = $1) AND (NOT $2::boolean OR enabled)
  ORDER BY organization_id, key`;
// Served by the partial index integrations_org_idx (organization_id) WHERE enabled.
const LIST_ENABLED_FOR_ORG = `
  SELECT ${COLUMNS} FROM crm_sync.integrations WHERE organization_id = $1 AND enabled ORDER BY key`;
const SET_STATUS = `
  UPDATE crm_sync.integrations
  SET status = $2, status_reason = $3, paused_until = $4, updated_at = now()
  WHERE id = $1
  RETURNING ${COLUMNS}`;
const DELETE_INTEGRATION = `DELETE FROM crm_sync.integrations WHERE id = $1`;
const SELECT_CREDENTIALS = `SELECT key, credentials FROM crm_sync.integrations WHERE id = $1`;

/** Associated data binding a ciphertext to its integration (see `CredentialsCipher.encrypt`). */
function credentialsContext(key: string): string {
  return `integration:${key}`;
}

/**
 * Creates or updates the integration with `config.key`. Idempotent: applying the same config
 * again changes nothing and reports `unchanged`. The hash covers the credentials too (keyed, see
 * `fingerprint`), so a rotated token is an update.
 *
 * @example
 * const { action } = await upsertIntegration(db, parsed.config, cipher); // 'created'
 */
export async function upsertIntegration(
  db: Queryable,
  config: IntegrationConfig,
  cipher: CredentialsCipher,
): Promise<UpsertResult> {
  const { credentials, ...stored } = config;
  const values = [
    config.key,
    config.organizationId,
    config.provider,
    config.name,
    config.enabled,
    cipher.encrypt(JSON.stringify(credentials), credentialsContext(config.key)),
    stored,
    cipher.fingerprint(canonicalJson(config)),
  ];
  const written = await db.query<IntegrationRow & { inserted: boolean }>({
    name: 'upsert-integration',
    text: UPSERT_INTEGRATION,
    values,
  });
  const row = written.rows[0];
  if (row) return { integration: toIntegration(row), action: row.inserted ? 'created' : 'updated' };

  const existing = await getIntegrationByKey(db, config.key);
  if (!existing)
    throw new Error(`integration "${config.key}" vanished while it was being applied; apply again`);
  if (existing.provider !== config.provider || existing.organizationId !== config.organizationId) {
    throw new IntegrationKeyConflictError(
      `integration "${config.key}" already exists for provider ${existing.provider} of organization ` +
        `${existing.organizationId}; a key cannot move to another provider or organization (use a new key)`,
    );
  }
  return { integration: existing, action: 'unchanged' };
}

export async function getIntegrationByKey(db: Queryable, key: string): Promise<Integration | null> {
  const { rows } = await db.query<IntegrationRow>({
    name: 'get-integration-by-key',
    text: SELECT_BY_KEY,
    values: [key],
  });
  return rows[0] ? toIntegration(rows[0]) : null;
}

export async function getIntegrationById(db: Queryable, id: string): Promise<Integration | null> {
  const { rows } = await db.query<IntegrationRow>({
    name: 'get-integration-by-id',
    text: SELECT_BY_ID,
    values: [id],
  });
  return rows[0] ? toIntegration(rows[0]) : null;
}

/** Every integration (of one organization, when given), ordered by organization and key. */
export async function listIntegrations(
  db: Queryable,
  options: { organizationId?: string | undefined; enabledOnly?: boolean | undefined } = {},
): Promise<Integration[]> {
  const { rows } = await db.query<IntegrationRow>({
    name: 'list-integrations',
    text: LIST_INTEGRATIONS,
    values: [options.organizationId ?? null, options.enabledOnly ?? false],
  });
  return rows.map(toIntegration);
}

/**
 * The router's look-up for each event: one indexed query. Paused integrations are included
 * (with their status) so the caller decides whether to hold their work rather than drop it.
 */
export async function listEnabledIntegrationsForOrg(
  db: Queryable,
  organizationId: string,
): Promise<Integration[]> {
  const { rows } = await db.query<IntegrationRow>({
    name: 'list-enabled-integrations-for-org',
    text: LIST_ENABLED_FOR_ORG,
    values: [organizationId],
  });
  return rows.map(toIntegration);
}

/** Pauses (operator, auth failure, daily quota until `pausedUntil`) or resumes; null when no such id. */
export async function setIntegrationStatus(
  db: Queryable,
  id: string,
  change: { status: Integration['status']; reason: string | null; pausedUntil?: Date | null | undefined },
): Promise<Integration | null> {
  const { rows } = await db.query<IntegrationRow>({
    name: 'set-integration-status',
    text: SET_STATUS,
    values: [
      id,
      change.status,
      change.reason,
      change.status === 'paused' ? (change.pausedUntil ?? null) : null,
    ],
  });
  return rows[0] ? toIntegration(rows[0]) : null;
}

/** Deletes the integration and, by cascade, its links, log, failures and cursors. */
export async function deleteIntegration(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query({ name: 'delete-integration', text: DELETE_INTEGRATION, values: [id] });
  return (result.rowCount ?? 0) > 0;
}

/** The decrypted credentials; null when there is no such integration. Throws when they cannot be decrypted. */
export async function loadCredentials(
  db: Queryable,
  id: string,
  cipher: CredentialsCipher,
): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<{ key: string; credentials: string }>({
    name: 'select-integration-credentials',
    text: SELECT_CREDENTIALS,
    values: [id],
  });
  const row = rows[0];
  if (!row) return null;
  return JSON.parse(cipher.decrypt(row.credentials, credentialsContext(row.key))) as Record<string, unknown>;
}

// The stored config was validated when it was written; it is not parsed again on this hot path.
function toIntegration(row: IntegrationRow): Integration {
  return {
    id: row.id,
    key: row.key,
    organizationId: row.organization_id,
    provider: row.provider,
    name: row.name,
    enabled: row.enabled,
    status: row.status,
    statusReason: row.status_reason,
    pausedUntil: row.paused_until,
    config: row.config,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
