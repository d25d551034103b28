import { z } from 'zod';
import { OPERATIONS } from '../connectors/types.js';
import type { CrmEvent } from '../events/envelope.js';

/** Each integration has a sync queue of its own, so a slow or paused provider never blocks another. */
export function syncQueueName(integrationId: string): string {
  return `sync-${integrationId}`;
}

/** What the router puts on an integration's sync queue: one record, one operation. */
export const SyncJobData = z.object({
  integrationId: z.string(),
  entityType: z.enum(['contact', 'company', 'activity', 'list_membership']),
  entityId: z.string(),
  operation: z.enum(OPERATIONS),
  // Validated when it entered (the crm-events consumer); the sync queue is internal, and
  // parsing every snapshot again would cost more than the rest of the job.
  event: z.custom<CrmEvent>(
    (v) => typeof v === 'object' && v !== null && 'id' in v && 'type' in v && 'data' in v,
  ),
  priority: z.enum(['live', 'bulk']).default('live'),
  /** Set by `crm-sync replay`: the dead letter this job re-runs. */
  replayOf: z.number().int().optional(),
  force: z.boolean().optional(),
});
export type SyncJobData = z.infer<typeof SyncJobData>;
export type SyncJobInput = z.input<typeof SyncJobData>;

/** Thrown by the processor to have BullMQ retry after `delayMs` (the custom backoff reads it). */
export class RetryLater extends Error {
  override name = 'RetryLater';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export const SYNC_BACKOFF_TYPE = 'crm-sync';

/** BullMQ's custom backoff: the delay the engine's retry policy chose for this failure. */
export function syncBackoffStrategy(_attemptsMade: number, type?: string, error?: Error): number {
  if (type === SYNC_BACKOFF_TYPE && error instanceof RetryLater) return error.delayMs;
  return 1000;
}
