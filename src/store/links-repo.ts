import type { EntityType } from '../events/event-types.js';
import type { Db, DbClient } from './db.js';

/** A row of `crm_sync.sync_links` (CONTRACT §4). */
export interface SyncLink {
  integrationId: string;
  entityType: EntityType;
  entityId: string;
  crmExternalId: string | null;
  externalId: string | null;
  syncHash: string | null;
  lastSyncedAt: Date | null;
  lastEventId: string | null;
  lastVersion: number | null;
  lastUpdatedAt: Date | null;
  lastError: string | null;
  state: Record<string, unknown>;
}

interface LinkRow {
  integration_id: string;
  entity_type: EntityType;
  entity_id: string;
  crm_external_id: string | null;
  external_id: string | null;
  sync_hash: string | null;
  last_synced_at: Date | null;
  last_event_id: string | null;
  last_version: number | null;
  last_updated_at: Date | null;
  last_error: string | null;
  state: Record<string, unknown>;
}

const COLUMNS = `integration_id, entity_type, entity_id, crm_external_id, external_id, sync_hash, last_synced_at,
  last_event_id, last_version, last_updated_at, last_error, state`;

function toLink(row: LinkRow): SyncLink {
  return {
    integrationId: row.integration_id,
    entityType: row.entity_type,
    entityId: row.entity_id,
    crmExternalId: row.crm_external_id,
    externalId: row.external_id,
    syncHash: row.sync_hash,
    lastSyncedAt: row.last_synced_at,
    lastEventId: row.last_event_id,
    lastVersion: row.last_version,
    lastUpdatedAt: row.last_updated_at,
    lastError: row.last_error,
    state: row.state,
  };
}

const key = (entityType: string, entityId: string) => `${entityType}\u0000${entityId}`;

/** Loads the links of many records of one integration in one query, keyed by type+id. */
export async function findLinks(
  db: Db | DbClient,
  integrationId: string,
  refs: readonly { entityType: string; entityId: string }[],
): Promise<Map<string, SyncLink>> {
  const found = new Map<string, SyncLink>();
  if (refs.length === 0) return found;
  const { rows } = await db.query<LinkRow>(
    `SELECT ${COLUMNS} FROM crm_sync.sync_links
      WHERE integration_id = $1
        AND (entity_type, entity_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [integrationId, refs.map((r) => r.entityType), refs.map((r) => r.entityId)],
  );
  for (const row of rows) found.set(key(row.entity_type, row.entity_id), toLink(row));
  return found;
}

export function linkKey(entityType: string, entityId: string): string {
  return key(entityType, entityId);
}

export async function findLink(
  db: Db | DbClient,
  integrationId: string,
  entityType: string,
  entityId: string,
) {
  const links = await findLinks(db, integrationId, [{ entityType, entityId }]);
  return links.get(key(entityType, entityId)) ?? null;
}

/** The links of one CRM record across all integrations, by its id or its CRM external id (sync-status). */
export async function findLinksOfEntity(db: Db, entityType: string, id: string): Promise<SyncLink[]> {
  const { rows } = await db.query<LinkRow>(
    `SELECT ${COLUMNS} FROM crm_sync.sync_links
      WHERE entity_type = $1 AND (entity_id = $2 OR crm_external_id = $2) ORDER BY created_at`,
    [entityType, id],
  );
  return rows.map(toLink);
}

export interface LinkWrite {
  entityType: EntityType;
  entityId: string;
  crmExternalId: string | null;
  crmEmail?: string | null | undefined;
  externalId: string | null;
  /** A delta operation passes the link's current hash: it does not change the record's payload. */
  syncHash: string | null;
  lastEventId: string;
  lastVersion: number | null;
  lastUpdatedAt: Date | null;
  state: Record<string, unknown>;
}

/**
 * Records successful syncs of many records in one statement. A provider id already linked to
 * another record of the integration (a merge at the provider, a race) moves to this record: the
 * unique (integration, type, external id) constraint allows one owner, and the newest sync is
 * the one the provider just confirmed. That move is rare, so it is made only when the upsert
 * meets the constraint, instead of a statement in front of every batch. Takes the pool, not a
 * client in a transaction: the move follows a statement that failed.
 */
export async function saveSyncedLinks(db: Db, integrationId: string, writes: readonly LinkWrite[]) {
  if (writes.length === 0) return;
  try {
    await upsertSyncedLinks(db, integrationId, writes);
  } catch (error) {
    if (!isExternalIdTaken(error)) throw error;
    await releaseMovedExternalIds(db, integrationId, writes);
    await upsertSyncedLinks(db, integrationId, writes);
  }
}

function isExternalIdTaken(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === 'sync_links_one_per_external_id';
}

/** Clears the provider ids of `writes` from the other records of the integration that hold them. */
async function releaseMovedExternalIds(
  db: Db | DbClient,
  integrationId: string,
  writes: readonly LinkWrite[],
) {
  const withIds = writes.filter((w) => w.externalId !== null);
  if (withIds.length === 0) return;
  await db.query(
    `UPDATE crm_sync.sync_links l SET external_id = NULL, updated_at = now()
       FROM unnest($2::text[], $3::text[], $4::text[]) AS w(entity_type, entity_id, external_id)
      WHERE l.integration_id = $1 AND l.entity_type = w.entity_type AND l.external_id = w.external_id
        AND l.entity_id <> w.entity_id`,
    [
      integrationId,
      withIds.map((w) => w.entityType),
      withIds.map((w) => w.entityId),
      withIds.map((w) => w.externalId),
    ],
  );
}

async function upsertSyncedLinks(db: Db | DbClient, integrationId: string, writes: readonly LinkWrite[]) {
  await db.query(
    `INSERT INTO crm_sync.sync_links AS l (integration_id, entity_type, entity_id, external_id, sync_hash,
        last_synced_at, last_event_id, last_version, last_updated_at, last_error, state, crm_external_id, crm_email)
     SELECT $1, w.entity_type, w.entity_id, w.external_id, w.sync_hash, now(), w.last_event_id,
            w.last_version, w.last_updated_at, NULL, w.state, w.crm_external_id, w.crm_email
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                   $8::timestamptz[], $9::jsonb[], $10::text[], $11::text[])
            AS w(entity_type, entity_id, external_id, sync_hash, last_event_id, last_version,
                 last_updated_at, state, crm_external_id, crm_email)
     ON CONFLICT (integration_id, entity_type, entity_id) DO UPDATE SET
       crm_external_id = COALESCE(EXCLUDED.crm_external_id, l.crm_external_id),
       crm_email = COALESCE(EXCLUDED.crm_email, l.crm_email),
       external_id = COALESCE(EXCLUDED.external_id, l.external_id),
       sync_hash = EXCLUDED.sync_hash,
       last_synced_at = now(),
       last_event_id = EXCLUDED.last_event_id,
       last_version = COALESCE(EXCLUDED.last_version, l.last_version),
       last_updated_at = COALESCE(EXCLUDED.last_updated_at, l.last_updated_at),
       last_error = NULL,
       state = EXCLUDED.state,
       updated_at = now()`,
    [
      integrationId,
      writes.map((w) => w.entityType),
      writes.map((w) => w.entityId),
      writes.map((w) => w.externalId),
      writes.map((w) => w.syncHash),
      writes.map((w) => w.lastEventId),
      writes.map((w) => w.lastVersion),
      writes.map((w) => w.lastUpdatedAt),
      writes.map((w) => JSON.stringify(w.state)),
      writes.map((w) => w.crmExternalId),
      writes.map((w) => w.crmEmail ?? null),
    ],
  );
}

/** Remembers the latest error on the record's link (created if the record never synced). */
export async function saveLinkErrors(
  db: Db | DbClient,
  integrationId: string,
  errors: readonly { entityType: string; entityId: string; error: string }[],
) {
  if (errors.length === 0) return;
  await db.query(
    `INSERT INTO crm_sync.sync_links AS l (integration_id, entity_type, entity_id, last_error)
     SELECT $1, e.entity_type, e.entity_id, e.error
       FROM unnest($2::text[], $3::text[], $4::text[]) AS e(entity_type, entity_id, error)
     ON CONFLICT (integration_id, entity_type, entity_id) DO UPDATE SET last_error = EXCLUDED.last_error, updated_at = now()`,
    [
      integrationId,
      errors.map((e) => e.entityType),
      errors.map((e) => e.entityId),
      errors.map((e) => e.error),
    ],
  );
}

/** After a merge: the loser's link is dropped (its provider record is gone or merged into the winner). */
export async function deleteLink(
  db: Db | DbClient,
  integrationId: string,
  entityType: string,
  entityId: string,
) {
  await db.query(
    `DELETE FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = $2 AND entity_id = $3`,
    [integrationId, entityType, entityId],
  );
}
