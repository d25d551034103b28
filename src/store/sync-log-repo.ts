import type { Db, DbClient } from './db.js';

/** One row of `crm_sync.sync_log`: the outcome of one record's sync attempt. */
export interface SyncLogEntry {
  integrationId: string;
  entityType: string;
  entityId: string;
  eventId: string;
  eventType: string;
  /** create | update | archive | merge | tag_add | … | skip */
  action: string;
  /** success | skipped | retrying | failed */
  result: 'success' | 'skipped' | 'retrying' | 'failed';
  externalId?: string | null | undefined;
  apiCalls: number;
  durationMs: number;
  error?: string | null | undefined;
}

/** Appends many log rows in one statement (the engine writes one per record per attempt). */
export async function appendSyncLog(db: Db | DbClient, entries: readonly SyncLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO crm_sync.sync_log (integration_id, entity_type, entity_id, event_id, event_type, action, result,
        external_id, api_calls, duration_ms, error)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::int[], $10::int[], $11::text[])`,
    [
      entries.map((e) => e.integrationId),
      entries.map((e) => e.entityType),
      entries.map((e) => e.entityId),
      entries.map((e) => e.eventId),
      entries.map((e) => e.eventType),
      entries.map((e) => e.action),
      entries.map((e) => e.result),
      entries.map((e) => e.externalId ?? null),
      entries.map((e) => e.apiCalls),
      entries.map((e) => Math.round(e.durationMs)),
      entries.map((e) => e.error ?? null),
    ],
  );
}

export interface SyncLogRow extends SyncLogEntry {
  id: number;
  createdAt: Date;
}

export async function listSyncLog(
  db: Db,
  filter: { integrationId?: string; entityType?: string; entityId?: string; result?: string; limit?: number },
): Promise<SyncLogRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.integrationId) add('integration_id = ?', filter.integrationId);
  if (filter.entityType) add('entity_type = ?', filter.entityType);
  if (filter.entityId) add('entity_id = ?', filter.entityId);
  if (filter.result) add('result = ?', filter.result);
  params.push(Math.min(filter.limit ?? 50, 1000));
  const { rows } = await db.query(
    `SELECT id, integration_id AS "integrationId", entity_type AS "entityType", entity_id AS "entityId",
            event_id AS "eventId", event_type AS "eventType", action, result, external_id AS "externalId",
            api_calls AS "apiCalls", duration_ms AS "durationMs", error, created_at AS "createdAt"
       FROM crm_sync.sync_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return rows as SyncLogRow[];
}
