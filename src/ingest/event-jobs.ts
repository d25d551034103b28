import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdFor } from '../events/job-id.js';
import { CRM_EVENT_JOB_OPTIONS, CRM_EVENTS_QUEUE } from '../events/publish.js';

/** The default key prefix of every crm-sync queue (`CRM_SYNC_QUEUE_PREFIX` overrides it). */
export const DEFAULT_QUEUE_PREFIX = 'crm-sync';

/** The `crm-events` queue as producers see it. The caller owns (and closes) `connection`. */
export function createEventsQueue(connection: Redis, prefix = DEFAULT_QUEUE_PREFIX): Queue {
  return new Queue(CRM_EVENTS_QUEUE, { connection, prefix });
}

/**
 * The job for one event, exactly as `publishCrmEvent` makes it (name = type, data = the envelope
 * as received, id = `jobIdFor(event id)`), for `queue.addBulk`.
 */
export function eventJob(raw: unknown, id: string, type: string) {
  return { name: type, data: raw, opts: { ...CRM_EVENT_JOB_OPTIONS, jobId: jobIdFor(id) } };
}

/** Adds jobs in slices so one huge file or outbox backlog is not one huge Redis transaction. */
export async function addEventJobs(queue: Queue, jobs: ReturnType<typeof eventJob>[], slice = 500) {
  for (let i = 0; i < jobs.length; i += slice) await queue.addBulk(jobs.slice(i, i + slice));
}

/** Which of these job ids already exist in the queue (waiting, delayed, active, completed or failed). */
export async function existingJobIds(queue: Queue, jobIds: string[]): Promise<Set<string>> {
  const states = await Promise.all(jobIds.map((id) => queue.getJobState(id)));
  return new Set(jobIds.filter((_, i) => states[i] !== 'unknown'));
}
