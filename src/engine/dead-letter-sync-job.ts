import type { Job } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import type { Db } from '../store/db.js';
import { recordFailure } from '../store/failures-repo.js';
import { redactString } from '../store/redact.js';
import { syncFailureKey } from './sync-batch.js';
import { SyncJobData } from './sync-job.js';

/**
 * Dead letters for the records of a sync job that failed as a whole: the engine itself kept
 * failing on it until the job's attempts ran out (Postgres or Redis away mid-job), or its workers
 * kept dying on it and BullMQ failed it (code `stalled`). A record's own failures never get here
 * (the processor dead-letters or retries each one); these are the records no push decided about,
 * which would otherwise sit unseen in BullMQ's failed set instead of in `sync_failures`, where
 * operators list them and `crm-sync replay` re-runs them. Returns how many were recorded.
 */
export async function deadLetterSyncJob(db: Db, job: Job, logger: Logger): Promise<number> {
  const data = SyncJobData.safeParse(job.data);
  if (!data.success) {
    logger.error({ jobId: job.id }, 'a failed sync job holds no records that can be dead-lettered');
    return 0;
  }
  const stalled = Boolean(job.deferredFailure);
  const reason = redactString(job.deferredFailure ?? job.failedReason ?? 'unknown error');
  const { integrationId } = data.data;
  let recorded = 0;
  for (const item of data.data.items) {
    await recordFailure(db, {
      failureKey: syncFailureKey(integrationId, item, item.operation, item.event.id),
      stage: 'sync',
      integrationId,
      entityType: item.entityType,
      entityId: item.entityId,
      eventId: item.event.id,
      eventType: item.event.type,
      event: item.event,
      errorKind: 'internal',
      errorCode: stalled ? 'stalled' : 'job_failed',
      errorMessage: stalled
        ? `the worker syncing it stopped before finishing, ${job.attemptsStarted} times (${reason})`
        : `its sync job failed ${job.attemptsMade} times before any push decided about it: ${reason}`,
      attempts: item.attemptsMade + job.attemptsMade,
    });
    recorded += 1;
  }
  return recorded;
}
