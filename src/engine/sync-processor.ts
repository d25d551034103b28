import { DelayedError, type Job } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import type { EntityRef } from './entity-ref.js';
import { classOf } from './entity-ref.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import type { LatestSnapshotStore } from './latest-snapshot-store.js';
import { compareOrder, orderOf } from './record-order.js';
import type { SyncItem, SyncOutcome } from './sync-batch.js';
import { RetryLater, SyncJobData } from './sync-job.js';

/** How long a job of a paused integration waits before it looks again. */
export const PAUSED_RECHECK_MS = 30_000;
/** Below this share of the daily quota, bulk work waits so live changes keep flowing. */
export const BULK_QUOTA_RESERVE = 0.1;

export interface ProcessorDeps {
  runtime(integrationId: string): Promise<IntegrationRuntime | null>;
  submit(rt: IntegrationRuntime, item: SyncItem): Promise<SyncOutcome>;
  latest: LatestSnapshotStore;
  logger: Logger;
  /** A job was put aside while its integration is paused (so a resume can bring it back). */
  onPausedDelay?: (integrationId: string) => void;
  /** Replays: mark the dead letter once its record synced. */
  onReplayed?: (failureId: number, outcome: SyncOutcome) => Promise<void>;
}

export type SyncJobResult = { outcome: SyncOutcome['kind']; detail?: string | number | null };

/**
 * The BullMQ processor of an integration's sync queue: picks the newest pending state of the
 * record, hands it to the integration's micro-batcher, and turns the outcome into what BullMQ
 * should do (complete, retry after a delay, or wait while the integration is paused).
 */
export function createSyncProcessor(deps: ProcessorDeps) {
  return async function processSyncJob(job: Job, token?: string): Promise<SyncJobResult> {
    const data = SyncJobData.parse(job.data);
    const rt = await deps.runtime(data.integrationId);
    if (!rt?.integration.enabled) return { outcome: 'skipped', detail: 'integration deleted or disabled' };

    if (rt.integration.status === 'paused') {
      deps.onPausedDelay?.(rt.integration.id);
      const until = rt.integration.pausedUntil?.getTime() ?? 0;
      return delay(job, token, Math.max(Date.now() + PAUSED_RECHECK_MS, until));
    }
    if (
      data.priority === 'bulk' &&
      rt.quota &&
      rt.quota.dailyRemaining < rt.quota.dailyMax * BULK_QUOTA_RESERVE
    ) {
      return delay(job, token, Math.max(Date.now() + 5 * 60_000, rt.quota.resetsAt?.getTime() ?? 0));
    }

    const ref: EntityRef = { entityType: data.entityType, entityId: data.entityId };
    let event = data.event;
    if (classOf(data.operation) === 'state') {
      const newest = await deps.latest.get(rt.integration.id, ref);
      if (newest && compareOrder(orderOf(newest), orderOf(event)) > 0) event = newest;
    }
    const log = deps.logger.child({
      integration: rt.integration.key,
      eventId: event.id,
      correlationId: event.correlationId ?? undefined,
      jobId: job.id,
    });

    const outcome = await deps.submit(rt, {
      event,
      ref,
      operation: data.operation,
      attemptsMade: job.attemptsMade,
      force: data.force,
      priority: data.priority,
    });
    if (data.replayOf !== undefined) await deps.onReplayed?.(data.replayOf, outcome);

    switch (outcome.kind) {
      case 'synced':
      case 'skipped':
        if (classOf(data.operation) === 'state') {
          // Not awaited: an entry left behind is the synced event or an older one, which the
          // next job of the record ignores.
          deps.latest.clear(rt.integration.id, ref, event.id).catch(() => {});
        }
        log.debug({ outcome: outcome.kind }, 'record synced');
        return {
          outcome: outcome.kind,
          detail: outcome.kind === 'synced' ? outcome.externalId : outcome.reason,
        };
      case 'dead_lettered':
        log.warn({ failureId: outcome.failureId, kind: outcome.error.kind }, 'record dead-lettered');
        return { outcome: outcome.kind, detail: outcome.failureId };
      case 'retry':
        log.info({ delayMs: outcome.delayMs, kind: outcome.error.kind }, 'record will be retried');
        throw new RetryLater(outcome.error.message, outcome.delayMs);
      case 'paused':
        log.warn({ reason: outcome.reason }, 'integration paused');
        deps.onPausedDelay?.(rt.integration.id);
        return delay(job, token, Math.max(Date.now() + PAUSED_RECHECK_MS, outcome.untilMs ?? 0));
    }
  };
}

/** Puts the job back, delayed, without using one of its attempts. */
async function delay(job: Job, token: string | undefined, until: number): Promise<never> {
  await job.moveToDelayed(until, token);
  throw new DelayedError();
}
