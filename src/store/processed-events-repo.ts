import type { Queryable } from './failures-repo.js';

/**
 * `crm_sync.processed_events`: the ids of events already routed. BullMQ's job id stops a
 * duplicate while the first job still exists; this table stops it after the job was removed
 * (completed jobs are removed at once), so keep rows longer than any duplicate can arrive late.
 */

export async function isEventProcessed(db: Queryable, eventId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM crm_sync.processed_events WHERE event_id = $1`, [eventId]);
  return rows.length > 0;
}

/** The subset of `eventIds` already processed. */
export async function findProcessedEventIds(db: Queryable, eventIds: string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const { rows } = await db.query<{ event_id: string }>(
    `SELECT event_id FROM crm_sync.processed_events WHERE event_id = ANY($1::text[])`,
    [eventIds],
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Idempotent: marking an id twice keeps the first time. */
export async function markEventProcessed(db: Queryable, eventId: string, eventType: string): Promise<void> {
  await db.query(
    `INSERT INTO crm_sync.processed_events (event_id, event_type) VALUES ($1, $2)
     ON CONFLICT (event_id) DO NOTHING`,
    [eventId, eventType],
  );
}

/**
 * Forgets ids processed more than `olderThanDays` days ago; returns how many. Run it daily;
 * 7 days is a safe default (duplicates arrive within minutes, outbox replays within hours).
 */
export async function pruneProcessedEvents(db: Queryable, olderThanDays: number): Promise<number> {
  if (!Number.isFinite(olderThanDays) || olderThanDays < 0) {
    throw new Error(`pruneProcessedEvents: olderThanDays must be a number >= 0, got ${olderThanDays}`);
  }
  const { rowCount } = await db.query(
    `DELETE FROM crm_sync.processed_events WHERE processed_at < now() - make_interval(secs => $1 * 86400)`,
    [olderThanDays],
  );
  return rowCount ?? 0;
}

/** `markEventProcessed` for many events in one statement. */
export async function markEventsProcessed(
  db: Queryable,
  events: readonly { eventId: string; eventType: string }[],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO crm_sync.processed_events (event_id, event_type)
     SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (event_id) DO NOTHING`,
    [events.map((e) => e.eventId), events.map((e) => e.eventType)],
  );
}
