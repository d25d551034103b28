import type { Queryable } from './failures-repo.js';

/**
 * `crm_sync.outbox`: the CRM inserts events here in the same transaction as its own write
 * (`INSERT INTO crm_sync.outbox (event) VALUES ($1)`); the relay moves them to the queue.
 */

export interface OutboxRow {
  id: number;
  event: unknown;
  attempts: number;
}

/** What the CRM runs, inside its own transaction. Returns the row id. */
export async function insertOutboxEvent(db: Queryable, event: unknown): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO crm_sync.outbox (event) VALUES ($1::jsonb) RETURNING id`,
    [JSON.stringify(event)],
  );
  return rows[0]!.id;
}

/**
 * Locks up to `limit` rows, oldest first, for the caller's open transaction. SKIP LOCKED lets
 * several relays run side by side: each takes rows no other relay holds, none waits.
 */
export async function claimOutboxBatch(client: Queryable, limit: number): Promise<OutboxRow[]> {
  const { rows } = await client.query<{ id: number; event: unknown; attempts: number }>(
    `SELECT id, event, attempts FROM crm_sync.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

export async function deleteOutboxRows(client: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query(`DELETE FROM crm_sync.outbox WHERE id = ANY($1::bigint[])`, [ids]);
}

/** Notes a failed relay attempt on rows that stay in the outbox, for operators to see. */
export async function recordOutboxError(db: Queryable, ids: number[], message: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE crm_sync.outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
    [ids, message.slice(0, 1000)],
  );
}

/** How many events wait in the outbox, and the age of the oldest in seconds (0 when empty). */
export async function outboxBacklog(db: Queryable): Promise<{ count: number; oldestAgeSeconds: number }> {
  const { rows } = await db.query<{ count: number; age: number | null }>(
    `SELECT count(*)::int AS count, extract(epoch FROM now() - min(created_at))::float8 AS age
     FROM crm_sync.outbox`,
  );
  return { count: rows[0]!.count, oldestAgeSeconds: rows[0]!.age ?? 0 };
}
