import type { JobsOptions, Queue } from 'bullmq';
import { CrmEvent, type CrmEventInput } from './envelope.js';
import { jobIdFor } from './job-id.js';

/** The queue the CRM publishes to (CONTRACT §1). */
export const CRM_EVENTS_QUEUE = 'crm-events';

/**
 * Options every crm-events job gets, whoever enqueues it (this function, HTTP ingest, the outbox
 * relay), and what the consumer applies to jobs the CRM publishes without options.
 *
 * A completed job is removed at once: `processed_events` in Postgres is the record that catches
 * a re-published event (for 7 days), so keeping completed envelopes in Redis only duplicated it,
 * and trimming them cost BullMQ extra work on every job (about 12% of the pipeline's rate,
 * docs/benchmarks.md). Failed jobs stay (the consumer's `removeOnFail`), next to their dead letter.
 */
export const CRM_EVENT_JOB_OPTIONS = {
  removeOnComplete: true,
} satisfies JobsOptions;

/**
 * Publishes one CRM event on the `crm-events` queue: job name = event type, job data = envelope,
 * job id = event id (so publishing the same event twice enqueues it once).
 *
 * Validates before enqueueing, so a malformed event fails in the publisher's own call stack
 * with zod's path and message instead of travelling to the dead-letter store.
 *
 * @example
 * const queue = new Queue('crm-events', { connection, prefix: 'crm-sync' });
 * await publishCrmEvent(queue, { id: 'evt_1', type: 'CRM_CONTACT_CREATED', organizationId: 'org_1',
 *   occurredAt: new Date().toISOString(), data: { id: 42, email: 'ada@example.com' } });
 */
export async function publishCrmEvent(
  queue: Queue,
  event: CrmEventInput,
  options: Omit<JobsOptions, 'jobId'> = {},
): Promise<{ jobId: string }> {
  const parsed = CrmEvent.parse(event);
  const jobId = jobIdFor(parsed.id);
  await queue.add(parsed.type, event, {
    ...CRM_EVENT_JOB_OPTIONS,
    ...options,
    jobId,
  });
  return { jobId };
}
