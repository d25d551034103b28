import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { OPERATIONS } from '../connectors/types.js';
import type { CrmEvent } from '../events/envelope.js';

/** Each integration has a sync queue of its own, so a slow or paused provider never blocks another. */
export function syncQueueName(integrationId: string): string {
  return `sync-${integrationId}`;
}

/** One record to sync, as it travels on a sync queue. */
export const SyncJobItem = z.object({
  entityType: z.enum(['contact', 'company', 'activity', 'list_membership']),
  entityId: z.string(),
  operation: z.enum(OPERATIONS),
  // Validated when it entered (the crm-events consumer); the sync queue is internal, and
  // parsing every snapshot again would cost more than the rest of the job.
  event: z.custom<CrmEvent>(
    (v) => typeof v === 'object' && v !== null && 'id' in v && 'type' in v && 'data' in v,
  ),
  priority: z.enum(['live', 'bulk']).default('live'),
  /** Failed attempts of this record so far (a retry is a new job carrying the count). */
  attemptsMade: z.number().int().nonnegative().default(0),
  /** An earlier attempt of this record may have reached the provider (a push a pause cut short). */
  retried: z.boolean().optional(),
  /** Set by `crm-sync replay`: the dead letter this item re-runs. */
  replayOf: z.number().int().optional(),
  force: z.boolean().optional(),
});
export type SyncJobItem = z.infer<typeof SyncJobItem>;
export type SyncJobItemInput = z.input<typeof SyncJobItem>;

/**
 * A sync job: records of one integration. The router groups the state changes routed within the
 * coalescing window into one job (up to the connector's batch size), so a backlog of 10,000
 * contact updates is 100 jobs, not 10,000; a delta (a tag, a note) is a job of its own whose id
 * is the event's, which makes its fan-out exactly-once.
 */
export const SyncJobData = z.object({
  integrationId: z.string(),
  items: z.array(SyncJobItem).min(1),
});
export type SyncJobData = z.infer<typeof SyncJobData>;
export type SyncJobInput = z.input<typeof SyncJobData>;

/**
 * What every sync job gets. The records' own failures are retried item by item (a new job
 * carries the attempt count); the job's attempts only cover a failure of the engine itself
 * (Postgres or Redis away mid-job), where re-running the whole job is safe: synced records are
 * skipped as unchanged.
 *
 * `keyed`: the job id means something (a delta's event id, a replay's), so the completed job
 * stays an hour, long enough that a redelivered event or a repeated replay adds nothing. A
 * batch of state changes has a random id and carries every record's snapshot (up to 500): it
 * is removed once completed, or the last 1,000 of them would sit in Redis, up to a few hundred
 * MB per integration, for nothing (the sync log in Postgres is the record of what happened).
 */
export function syncJobOptions(priority: 'live' | 'bulk', keyed = false): JobsOptions {
  return {
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: keyed ? { age: 3600, count: 1000 } : true,
    removeOnFail: { age: 7 * 86_400 },
    ...(priority === 'bulk' ? { priority: 10 } : {}),
  };
}
