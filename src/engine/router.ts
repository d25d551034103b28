import type { JobsOptions } from 'bullmq';
import type { CrmEvent } from '../events/envelope.js';
import { jobIdFor } from '../events/job-id.js';
import { classOf, entityRefOf, snapshotOf } from './entity-ref.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import type { LatestSnapshotStore } from './latest-snapshot-store.js';
import { orderOf } from './record-order.js';
import { SYNC_BACKOFF_TYPE, type SyncJobInput } from './sync-job.js';

export interface RouteDecision {
  integrationId: string;
  routed: boolean;
  reason?: 'not_subscribed' | 'own_write' | 'filtered' | 'unsupported';
}

/**
 * Which of an organization's integrations an event goes to. Pure: the shell below enqueues.
 * - the integration must subscribe to the event type;
 * - a write this worker made for that integration (`source.module = INTEGRATION`) is not echoed;
 * - the filter applies to contact snapshots; archives bypass it, since a record that leaves the
 *   filter by being archived must still be archived at the provider;
 * - the connector must support the operation (a contact delta falls back to an upsert).
 */
export function routeEvent(event: CrmEvent, runtimes: readonly IntegrationRuntime[]): RouteDecision[] {
  const ref = entityRefOf(event);
  const filtered = ref.entityType === 'contact' || ref.entityType === 'list_membership';
  return runtimes.map((rt) => {
    const integrationId = rt.integration.id;
    if (!rt.subscribes(event.type)) return { integrationId, routed: false, reason: 'not_subscribed' };
    if (event.source.module === 'INTEGRATION' && event.source.integrationId === integrationId) {
      return { integrationId, routed: false, reason: 'own_write' };
    }
    const operation = rt.operationFor(event.type, ref.entityType);
    if (!operation) return { integrationId, routed: false, reason: 'unsupported' };
    if (filtered && operation !== 'archive' && !rt.matches(snapshotOf(event))) {
      return { integrationId, routed: false, reason: 'filtered' };
    }
    return { integrationId, routed: true };
  });
}

export interface RouterDeps {
  runtimesFor(organizationId: string): Promise<IntegrationRuntime[]>;
  enqueue(integrationId: string, job: { name: string; data: SyncJobInput; opts: JobsOptions }): Promise<void>;
  latest: LatestSnapshotStore;
  /** How long a state change waits for newer ones of the same record before it is pushed. */
  coalesceMs: number;
}

/**
 * Fans an event out to one sync job per routed integration. Idempotent: the job id is the event
 * id within the integration's queue, so a redelivered event enqueues nothing new. State changes
 * of one record coalesce (BullMQ deduplication: a delayed job is replaced by the newer one, and
 * one arriving while the job runs becomes the next job), backed by the latest-snapshot store.
 */
export function createRouter(deps: RouterDeps) {
  return async function route(event: CrmEvent, priority: 'live' | 'bulk' = 'live'): Promise<RouteDecision[]> {
    const runtimes = await deps.runtimesFor(event.organizationId);
    const decisions = routeEvent(event, runtimes);
    const ref = entityRefOf(event);
    await Promise.all(
      decisions.map(async (decision, i) => {
        if (!decision.routed) return;
        const rt = runtimes[i]!;
        const operation = rt.operationFor(event.type, ref.entityType)!;
        const data: SyncJobInput = { integrationId: rt.integration.id, ...ref, operation, event, priority };
        const opts: JobsOptions = {
          jobId: jobIdFor(event.id),
          attempts: rt.retry.attempts * 2 + 1,
          backoff: { type: SYNC_BACKOFF_TYPE },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 7 * 86_400 },
          ...(priority === 'bulk' ? { priority: 10 } : {}),
        };
        const enqueue = () => deps.enqueue(rt.integration.id, { name: event.type, data, opts });
        if (classOf(operation) !== 'state') {
          await enqueue();
          return;
        }
        opts.delay = deps.coalesceMs;
        opts.deduplication = {
          id: `${ref.entityType}.${ref.entityId}`,
          replace: true,
          keepLastIfActive: true,
        };
        // Concurrently: the job carries this event itself; the store only matters for a newer
        // one arriving while the job waits, and an entry that lands late is older, so ignored.
        await Promise.all([deps.latest.offer(rt.integration.id, ref, event, orderOf(event)), enqueue()]);
      }),
    );
    return decisions;
  };
}
