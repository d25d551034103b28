import type { CrmEvent } from '../events/envelope.js';
import { jobIdFor } from '../events/job-id.js';
import { classOf, entityRefOf, snapshotOf } from './entity-ref.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import type { NewestChangeStore } from './newest-change-store.js';
import { orderOf } from './record-order.js';
import type { SyncJobItemInput } from './sync-job.js';

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
  /** A delta (a tag, a note): a job of its own whose id is the event's (exactly-once fan-out). */
  enqueueDelta(integrationId: string, item: SyncJobItemInput, jobId: string): Promise<void>;
  /** A record's state change: grouped with others routed at the same moment into one job. */
  enqueueState(rt: IntegrationRuntime, item: SyncJobItemInput): Promise<void>;
  latest: NewestChangeStore;
}

/**
 * Fans an event out to every routed integration. A state change (upsert, archive, merge) is
 * recorded as its record's newest change, then joins the integration's next batch job; a job
 * that later reaches an older change of the record skips it (see NewestChangeStore). A delta
 * is a job of its own with the event id as job id, so a redelivered event adds nothing.
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
        const integrationId = rt.integration.id;
        const operation = rt.operationFor(event.type, ref.entityType)!;
        const item: SyncJobItemInput = { ...ref, operation, event, priority };
        if (classOf(operation) !== 'state') {
          await deps.enqueueDelta(integrationId, item, jobIdFor(event.id));
          return;
        }
        // Concurrently: the offer only matters to jobs that run after this one is queued.
        await Promise.all([
          deps.latest.offer(integrationId, ref, event, orderOf(event)),
          deps.enqueueState(rt, item),
        ]);
      }),
    );
    return decisions;
  };
}
