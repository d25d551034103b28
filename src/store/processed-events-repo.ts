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

/** One delivery of an event: which BullMQ job, and when that job was created (see claimEvents). */
export interface EventClaim {
  eventId: string;
  eventType: string;
  /** The same for every redelivery of one job (a retry, a stalled job run again), new for a re-publication. */
  delivery: string;
}

/**
 * Claims events for routing in one statement; returns the ids this call may route.
 *
 * An id is claimed when it is new, or when its row was written by the same delivery: a job
 * retried or run again after a crash routes its event again, which is safe because the router's
 * fan-out is idempotent. Any other delivery of a claimed id (a re-published event, a second job
 * carrying it) is a duplicate. Claiming before routing, instead of checking before and marking
 * after, costs one statement per event instead of two; `releaseEventClaim` undoes a claim whose
 * event was given up on, so that publishing it again routes it.
 *
 * Within one call, the first claim of an id wins and later ones are duplicates (Postgres cannot
 * update one row twice in a statement).
 */
export async function claimEvents(db: Queryable, claims: readonly EventClaim[]): Promise<Set<string>> {
  const first = new Map<string, EventClaim>();
  for (const claim of claims) if (!first.has(claim.eventId)) first.set(claim.eventId, claim);
  if (first.size === 0) return new Set();
  const unique = [...first.values()];
  const { rows } = await db.query<{ event_id: string }>(
    `INSERT INTO crm_sync.processed_events AS p (event_id, event_type, delivery)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
     ON CONFLICT (event_id) DO UPDATE SET processed_at = p.processed_at WHERE p.delivery = EXCLUDED.delivery
     RETURNING event_id`,
    [unique.map((c) => c.eventId), unique.map((c) => c.eventType), unique.map((c) => c.delivery)],
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Forgets the claim `delivery` holds on `eventId` (another delivery's claim stays). */
export async function releaseEventClaim(db: Queryable, eventId: string, delivery: string): Promise<void> {
  await db.query(`DELETE FROM crm_sync.processed_events WHERE event_id = $1 AND delivery = $2`, [
    eventId,
    delivery,
  ]);
}
