import { DelayedError, type Job } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import { classOf } from './entity-ref.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import type { NewestChangeStore } from './newest-change-store.js';
import type { SyncItem, SyncOutcome } from './sync-batch.js';
import { SyncJobData, type SyncJobItem, type SyncJobItemInput } from './sync-job.js';

/** How long a job of a paused integration waits before it looks again. */
export const PAUSED_RECHECK_MS = 30_000;
/** Below this share of the daily quota, bulk work waits so live changes keep flowing. */
export const BULK_QUOTA_RESERVE = 0.1;

export interface ProcessorDeps {
  runtime(integrationId: string): Promise<IntegrationRuntime | null>;
  submit(rt: IntegrationRuntime, item: SyncItem): Promise<SyncOutcome>;
  /** Logs records a later change supersedes (see logSuperseded): they never reach a batch. */
  skipSuperseded(rt: IntegrationRuntime, items: SyncItem[]): Promise<void>;
  /** Adds a job of records to the integration's queue (retries, records held by a pause). */
  addJob(integrationId: string, items: SyncJobItemInput[], opts: { delay?: number }): Promise<unknown>;
  latest: NewestChangeStore;
  logger: Logger;
  /** A job was put aside while its integration is paused (so a resume can bring it back). */
  onPausedDelay?: (integrationId: string) => void;
  /** Replays: mark the dead letter once its record synced. */
  onReplayed?: (failureId: number, outcome: SyncOutcome) => Promise<void>;
}

export type SyncJobResult = Record<SyncOutcome['kind'], number>;

/**
 * The BullMQ processor of an integration's sync queue. A job holds records; each goes through
 * the integration's micro-batcher unless a later change of it was routed (that change's job
 * pushes it), and each outcome is handled on its own: a retryable failure goes to a retry job
 * with its attempt count and backoff, and records stopped by a pause wait in a held job.
 */
export function createSyncProcessor(deps: ProcessorDeps) {
  return async function processSyncJob(job: Job, token?: string): Promise<SyncJobResult> {
    const data = SyncJobData.parse(job.data);
    const result: SyncJobResult = {
      synced: 0,
      skipped: 0,
      retry: 0,
      dead_lettered: 0,
      paused: 0,
    };
    const rt = await deps.runtime(data.integrationId);
    if (!rt?.integration.enabled) {
      result.skipped = data.items.length;
      return result;
    }
    if (rt.integration.status === 'paused') {
      deps.onPausedDelay?.(rt.integration.id);
      const until = rt.integration.pausedUntil?.getTime() ?? 0;
      return delay(job, token, Math.max(Date.now() + PAUSED_RECHECK_MS, until));
    }
    if (
      data.items.every((i) => i.priority === 'bulk') &&
      rt.quota &&
      rt.quota.dailyRemaining < rt.quota.dailyMax * BULK_QUOTA_RESERVE
    ) {
      return delay(job, token, Math.max(Date.now() + 5 * 60_000, rt.quota.resetsAt?.getTime() ?? 0));
    }

    const syncItems = data.items.map(
      (item): SyncItem => ({
        event: item.event,
        ref: { entityType: item.entityType, entityId: item.entityId },
        operation: item.operation,
        attemptsMade: item.attemptsMade,
        force: item.force,
        priority: item.priority,
        replay: item.replayOf !== undefined,
        // A retry, a record held by a pause, a replay, or a job run again after the engine failed.
        retried: item.retried || item.attemptsMade > 0 || item.replayOf !== undefined || job.attemptsMade > 0,
      }),
    );
    // A later change of the record was routed: its own job pushes the newest state.
    const superseded = await Promise.all(
      syncItems.map((item) =>
        item.replay || classOf(item.operation) !== 'state'
          ? false
          : deps.latest.supersedes(rt.integration.id, item.ref, item.event),
      ),
    );
    const skipping = syncItems.filter((_, i) => superseded[i]);
    const [outcomes] = await Promise.all([
      Promise.all(
        data.items.map(async (item, i) => {
          const outcome: SyncOutcome = superseded[i]
            ? { kind: 'skipped', reason: 'superseded' }
            : await deps.submit(rt, syncItems[i]!);
          return { item, event: item.event, outcome };
        }),
      ),
      deps.skipSuperseded(rt, skipping),
    ]);

    const held: SyncJobItem[] = [];
    const retries = new Map<number, SyncJobItem[]>();
    let heldUntil = 0;
    await Promise.all(
      outcomes.map(async ({ item, event, outcome }) => {
        result[outcome.kind] += 1;
        if (item.replayOf !== undefined) await deps.onReplayed?.(item.replayOf, outcome);
        const log = () =>
          deps.logger.child({
            integration: rt.integration.key,
            eventId: event.id,
            correlationId: event.correlationId ?? undefined,
            jobId: job.id,
          });
        switch (outcome.kind) {
          case 'synced':
          case 'skipped':
            return;
          case 'dead_lettered':
            log().warn({ failureId: outcome.failureId, kind: outcome.error.kind }, 'record dead-lettered');
            return;
          case 'retry': {
            log().info({ delayMs: outcome.delayMs, kind: outcome.error.kind }, 'record will be retried');
            // Records of one batch usually fail together with the same backoff: group them by
            // delay (rounded to 100 ms) so a failed batch is retried as a batch.
            const delayMs = Math.ceil(outcome.delayMs / 100) * 100;
            const group = retries.get(delayMs) ?? [];
            group.push({ ...item, attemptsMade: item.attemptsMade + 1 });
            retries.set(delayMs, group);
            return;
          }
          case 'paused':
            log().warn({ reason: outcome.reason }, 'integration paused');
            heldUntil = Math.max(heldUntil, outcome.untilMs ?? 0);
            // Its push may have reached the provider before the failure that paused it.
            held.push({ ...item, retried: true });
            return;
        }
      }),
    );

    const id = rt.integration.id;
    for (const [delayMs, items] of retries) await deps.addJob(id, items, { delay: delayMs });
    if (held.length > 0) {
      deps.onPausedDelay?.(id);
      await deps.addJob(id, held, {
        delay: Math.max(PAUSED_RECHECK_MS, heldUntil - Date.now()),
      });
    }
    return result;
  };
}

/** Puts the job back, delayed, without using one of its attempts. */
async function delay(job: Job, token: string | undefined, until: number): Promise<never> {
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}
