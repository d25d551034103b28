import type { Job, Worker } from 'bullmq';

/** Why BullMQ failed a job without calling the processor: its workers died with it too often. */
export const stalledTooOften = (job: Job): boolean => Boolean(job.deferredFailure);

/** 'failed' fires for every failed attempt; `finishedOn` is set only when no retry follows. */
export const failedForGood = (job: Job): boolean => Boolean(job.finishedOn);

/**
 * Runs `handle` (a dead letter, usually) for each job of `worker` that `which` selects as it
 * fails, and lets the owner's close() wait for those writes. An error of `handle` goes to
 * `onError`: a 'failed' listener must not throw.
 */
export function watchFailedJobs(
  worker: Worker,
  which: (job: Job) => boolean,
  handle: (job: Job) => Promise<unknown>,
  onError: (job: Job, error: unknown) => void,
): { settled(): Promise<void> } {
  const pending = new Set<Promise<unknown>>();
  worker.on('failed', (job) => {
    if (!job || !which(job)) return;
    const done = handle(job)
      .catch((error: unknown) => onError(job, error))
      .finally(() => pending.delete(done));
    pending.add(done);
  });
  return {
    async settled() {
      await Promise.all([...pending]);
    },
  };
}
