import { setTimeout as delay } from 'node:timers/promises';
import { type ConnectorError, classifyUnknown, RetryableError } from '../connectors/errors.js';
import { LIST_TARGET_KEY, type Operation, type PushRecord, type PushResult } from '../connectors/types.js';
import type { CrmEvent } from '../events/envelope.js';
import type { Logger } from '../logging/logger.js';
import { countSyncedRecords } from '../metrics/sync-metrics.js';
import type { Db } from '../store/db.js';
import { recordFailure } from '../store/failures-repo.js';
import {
  deleteLink,
  findLinks,
  type LinkWrite,
  linkKey,
  saveLinkErrors,
  saveSyncedLinks,
} from '../store/links-repo.js';
import { redact } from '../store/redact.js';
import { appendSyncLog, type SyncLogEntry } from '../store/sync-log-repo.js';
import { decideSync } from './decide-sync.js';
import { classOf, type EntityRef, snapshotOf } from './entity-ref.js';
import type { IntegrationRuntime, PushScope } from './integration-runtime.js';
import type { NewestChangeStore } from './newest-change-store.js';
import type { RecordLeases } from './record-leases.js';
import { orderOf } from './record-order.js';
import { RecordsInPush } from './records-in-push.js';
import { decideFailure } from './retry-policy.js';
import { syncHash } from './sync-hash.js';

/** One record to sync for one integration: what a sync job hands the batcher. */
export interface SyncItem {
  event: CrmEvent;
  ref: EntityRef;
  operation: Operation;
  /** Failed attempts before this one. */
  attemptsMade: number;
  /** Replays push even when the link says this event was synced. */
  force?: boolean | undefined;
  priority?: 'live' | 'bulk' | undefined;
  /** A replay of a dead letter: pushed even when a later change was routed (the operator asked). */
  replay?: boolean | undefined;
  /** An earlier attempt may have reached the provider (see PushRecord.retried). */
  retried?: boolean | undefined;
}

export type SyncOutcome =
  | { kind: 'synced'; externalId: string | null }
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry'; delayMs: number; error: ConnectorError }
  | { kind: 'dead_lettered'; failureId: number; error: ConnectorError }
  | { kind: 'paused'; reason: string; untilMs?: number | undefined };

export interface SyncBatchDeps {
  db: Db;
  logger: Logger;
  /** Contacts whose provider id is new: the CRM gets it written back. */
  onNewExternalIds?: (ids: { entityId: string; externalId: string }[]) => Promise<void>;
  /** An auth or configuration failure pauses the integration. */
  pauseIntegration: (reason: string, untilMs?: number) => Promise<void>;
}

/**
 * The micro-batcher's flush. A record whose later change was routed while it waited for its batch
 * (a partial batch is held up to four windows: a second each for Mailchimp) is logged as skipped,
 * `superseded`, not pushed: the later change's own job pushes the newer state. The processor
 * checks the same when a job starts; this catches what changed while the record sat in the
 * batch, which would otherwise cost a second seat in it and a second round (a batch pushes each
 * record once per round). Replays are pushed regardless, as the operator asked.
 */
export async function syncNewest(
  rt: IntegrationRuntime,
  items: SyncItem[],
  deps: SyncBatchDeps & {
    latest: Pick<NewestChangeStore, 'supersedes'>;
    /** Keeps other worker processes out of these records while they are pushed. */
    leases?: RecordLeases;
    /** Keeps this process's other pushes out of them (default: one for the whole process). */
    inPush?: RecordsInPush;
  },
): Promise<SyncOutcome[]> {
  const keys = items.map((item) => linkKey(item.ref.entityType, item.ref.entityId));
  const release = await (deps.inPush ?? RecordsInPush.process).take(rt.integration.id, keys);
  try {
    return deps.leases
      ? await pushLeased(rt, items, keys, { ...deps, leases: deps.leases })
      : await pushUnlessSuperseded(rt, items, deps);
  } finally {
    release();
  }
}

const BUSY_POLL_MS = { first: 20, max: 250 };

/**
 * Pushes the records whose leases it gets (RecordLeases: one process pushes a record at a time),
 * then waits for the ones another process is pushing and pushes them after it: a batch keeps its
 * other records moving, and never holds a lease while it waits (no two pushes wait for each
 * other). A record still busy after `leases.maxWaitMs` (a minute) is retried later, like a provider's 5xx.
 */
async function pushLeased(
  rt: IntegrationRuntime,
  items: SyncItem[],
  keys: readonly string[],
  deps: SyncBatchDeps & { latest: Pick<NewestChangeStore, 'supersedes'>; leases: RecordLeases },
): Promise<SyncOutcome[]> {
  const outcomes = new Array<SyncOutcome>(items.length);
  const deadline = Date.now() + deps.leases.maxWaitMs;
  let pending = items.map((_, i) => i);
  let poll = BUSY_POLL_MS.first;
  for (;;) {
    const distinct = new Map(pending.map((i) => [keys[i]!, items[i]!.ref]));
    const grant = await deps.leases.take(rt.integration.id, [...distinct.values()]);
    const distinctKeys = [...distinct.keys()];
    const busy = new Map(grant.busy.map((b) => [distinctKeys[b.position]!, b.retryInMs]));
    const ready = pending.filter((i) => !busy.has(keys[i]!));
    try {
      if (ready.length > 0) {
        const pushed = await pushUnlessSuperseded(
          rt,
          ready.map((i) => items[i]!),
          deps,
        );
        ready.forEach((i, n) => {
          outcomes[i] = pushed[n]!;
        });
      }
    } finally {
      await grant.release();
    }
    pending = pending.filter((i) => busy.has(keys[i]!));
    if (pending.length === 0) return outcomes;
    const wait = Math.min(poll, ...busy.values());
    if (Date.now() + wait > deadline) {
      const error = new RetryableError(
        `another worker process was pushing this record for all of ${deps.leases.maxWaitMs} ms`,
        { code: 'RECORD_BUSY' },
      );
      deps.logger.warn(
        { integration: rt.integration.key, records: pending.length },
        'records busy in another worker process; retrying them later',
      );
      for (const i of pending) outcomes[i] = { kind: 'retry', delayMs: 1_000, error };
      return outcomes;
    }
    await delay(wait);
    poll = Math.min(BUSY_POLL_MS.max, poll * 2);
  }
}

async function pushUnlessSuperseded(
  rt: IntegrationRuntime,
  items: SyncItem[],
  deps: SyncBatchDeps & { latest: Pick<NewestChangeStore, 'supersedes'> },
): Promise<SyncOutcome[]> {
  const stale = await Promise.all(
    items.map((item) =>
      item.replay || classOf(item.operation) !== 'state'
        ? false
        : deps.latest.supersedes(rt.integration.id, item.ref, item.event),
    ),
  );
  if (!stale.includes(true)) return syncBatch(rt, items, deps);
  const fresh = items.filter((_, i) => !stale[i]);
  const [pushed] = await Promise.all([
    fresh.length > 0 ? syncBatch(rt, fresh, deps) : Promise.resolve([]),
    logSuperseded(
      rt,
      items.filter((_, i) => stale[i]),
      deps,
    ),
  ]);
  let next = 0;
  return items.map(
    (_, i): SyncOutcome => (stale[i] ? { kind: 'skipped', reason: 'superseded' } : pushed[next++]!),
  );
}

/**
 * Syncs a batch of records of one integration: load links, map, hash, skip what is stale or
 * unchanged, push the rest in one connector call, then record links, log rows and failures in
 * bulk. Returns one outcome per item, in order. Never throws for a record's failure.
 */
export async function syncBatch(
  rt: IntegrationRuntime,
  items: SyncItem[],
  deps: SyncBatchDeps,
): Promise<SyncOutcome[]> {
  // A batch pushes each record once: a second item for the same record (a delta arriving with a
  // state change) goes to the next round, after the first is linked.
  const outcomes = new Array<SyncOutcome>(items.length);
  let pending = items.map((item, index) => ({ item, index }));
  while (pending.length > 0) {
    const seen = new Set<string>();
    const round: typeof pending = [];
    const later: typeof pending = [];
    for (const p of pending) {
      const k = linkKey(p.item.ref.entityType, p.item.ref.entityId);
      (seen.has(k) ? later : round).push(p);
      seen.add(k);
    }
    const results = await syncRound(
      rt,
      round.map((p) => p.item),
      deps,
    );
    round.forEach((p, i) => {
      outcomes[p.index] = results[i]!;
    });
    pending = later;
  }
  return outcomes;
}

async function syncRound(
  rt: IntegrationRuntime,
  items: SyncItem[],
  deps: SyncBatchDeps,
): Promise<SyncOutcome[]> {
  const started = performance.now();
  const integrationId = rt.integration.id;
  const links = await findLinks(
    deps.db,
    integrationId,
    items.map((i) => i.ref),
  );
  const outcomes = new Array<SyncOutcome>(items.length);
  const log: SyncLogEntry[] = [];
  const linkWrites: LinkWrite[] = [];
  const toPush: { index: number; record: PushRecord; hash: string }[] = [];

  items.forEach((item, index) => {
    const link = links.get(linkKey(item.ref.entityType, item.ref.entityId)) ?? null;
    const mapping = rt.mappings[item.ref.entityType];
    const snapshot = snapshotOf(item.event);
    const mapped = mapping ? mapping.push(snapshot) : { payload: {}, issues: [] };
    if (item.event.type === 'CRM_LIST_MEMBER_ADDED' || item.event.type === 'CRM_LIST_MEMBER_REMOVED') {
      const target = listTargetOf(rt, item.event.data.list);
      if (target === null) {
        outcomes[index] = { kind: 'skipped', reason: 'list_not_mapped' };
        log.push(logEntry(rt, item, 'skip', 'skipped', 0, 'list_not_mapped', null));
        return;
      }
      if (target !== undefined) mapped.payload = { ...mapped.payload, [LIST_TARGET_KEY]: target };
    }
    const order = orderOf(item.event);
    const hash = syncHash(item.operation, hashInputOf(rt, mapped.payload, snapshot));
    const decision = decideSync({
      operation: item.operation,
      eventId: item.event.id,
      order,
      hash,
      link,
      force: item.force,
    });
    if (decision.action === 'skip') {
      outcomes[index] = { kind: 'skipped', reason: decision.reason };
      log.push(logEntry(rt, item, 'skip', 'skipped', 0, decision.reason, link?.externalId));
      if (decision.reason === 'unchanged' && link) {
        // The record is in sync as of this event: remember it, so an older event is seen as stale.
        linkWrites.push({
          entityType: item.ref.entityType,
          entityId: item.ref.entityId,
          crmExternalId: crmExternalIdOf(item.event),
          crmEmail: crmEmailOf(item),
          externalId: link.externalId,
          syncHash: link.syncHash,
          lastEventId: item.event.id,
          lastVersion: order.version,
          lastUpdatedAt: order.updatedAt === null ? null : new Date(order.updatedAt),
          state: link.state,
        });
      }
      return;
    }
    if (mapped.issues.length > 0) {
      deps.logger.warn(
        { eventId: item.event.id, correlationId: item.event.correlationId, issues: mapped.issues },
        'mapping left fields out',
      );
    }
    toPush.push({
      index,
      hash,
      record: {
        key: `${item.ref.entityType}:${item.ref.entityId}`,
        operation: item.operation,
        entityType: item.ref.entityType,
        entityId: item.ref.entityId,
        externalId: link?.externalId ?? null,
        payload: mapped.payload,
        state: link?.state ?? {},
        event: item.event,
        ...(item.retried ? { retried: true } : {}),
      },
    });
  });

  let apiCalls = 0;
  let results: PushResult[] = [];
  if (toPush.length > 0) {
    const priority = items.some((i) => (i.priority ?? 'live') === 'live') ? 'live' : 'bulk';
    try {
      const scope: PushScope = { priority, apiCalls: 0 };
      try {
        results = await rt.client.push(
          toPush.map((p) => p.record),
          rt.requestFor(scope),
        );
      } finally {
        apiCalls = scope.apiCalls;
      }
      if (results.length !== toPush.length) {
        throw new Error(
          `connector ${rt.connector.provider} returned ${results.length} results for ${toPush.length} records`,
        );
      }
    } catch (error) {
      const classified = classifyUnknown(error);
      results = toPush.map(() => ({ status: 'error', error: classified }));
    }
  }

  const duration = performance.now() - started;
  const linkErrors: { entityType: string; entityId: string; error: string }[] = [];
  const newIds: { entityId: string; externalId: string }[] = [];
  let pause: { reason: string; untilMs?: number | undefined } | null = null;

  for (let i = 0; i < toPush.length; i++) {
    const { index, record, hash } = toPush[i]!;
    const item = items[index]!;
    const result = results[i]!;
    const link = links.get(linkKey(record.entityType, record.entityId)) ?? null;
    // The batch's requests are counted once, on its first row, so SUM(api_calls) stays exact.
    const calls = i === 0 ? apiCalls : 0;
    if (result.status === 'ok') {
      const order = orderOf(item.event);
      linkWrites.push({
        entityType: record.entityType,
        entityId: record.entityId,
        crmExternalId: crmExternalIdOf(item.event),
        crmEmail: crmEmailOf(item),
        externalId: result.externalId ?? link?.externalId ?? null,
        syncHash: classOf(record.operation) === 'state' ? hash : (link?.syncHash ?? null),
        lastEventId: item.event.id,
        lastVersion: order.version,
        lastUpdatedAt: order.updatedAt === null ? null : new Date(order.updatedAt),
        state: result.state ?? link?.state ?? {},
      });
      for (const extra of result.extraLinks ?? []) {
        linkWrites.push({
          ...extra,
          crmExternalId: null,
          syncHash: null,
          lastEventId: item.event.id,
          lastVersion: null,
          lastUpdatedAt: null,
          state: {},
        });
      }
      if (result.mergedFrom)
        await deleteLink(deps.db, integrationId, record.entityType, result.mergedFrom.entityId);
      if (record.entityType === 'contact' && result.externalId && result.externalId !== link?.externalId) {
        newIds.push({ entityId: record.entityId, externalId: result.externalId });
      }
      outcomes[index] = { kind: 'synced', externalId: result.externalId };
      const action =
        record.operation === 'upsert' ? (link?.externalId ? 'update' : 'create') : record.operation;
      log.push(logEntry(rt, item, action, 'success', calls, null, result.externalId, duration));
    } else if (result.status === 'skipped') {
      outcomes[index] = { kind: 'skipped', reason: result.reason };
      log.push(
        logEntry(rt, item, record.operation, 'skipped', calls, result.reason, link?.externalId, duration),
      );
    } else {
      const error = result.error;
      const decision = decideFailure(error, item.attemptsMade + 1, rt.retry);
      linkErrors.push({ entityType: record.entityType, entityId: record.entityId, error: describe(error) });
      if (decision.action === 'retry') {
        outcomes[index] = { kind: 'retry', delayMs: decision.delayMs, error };
        log.push(
          logEntry(
            rt,
            item,
            record.operation,
            'retrying',
            calls,
            describe(error),
            link?.externalId,
            duration,
          ),
        );
      } else if (decision.action === 'dead_letter') {
        const failureId = await recordFailure(deps.db, {
          failureKey: syncFailureKey(integrationId, record, record.operation, item.event.id),
          stage: 'sync',
          integrationId,
          entityType: record.entityType,
          entityId: record.entityId,
          eventId: item.event.id,
          eventType: item.event.type,
          event: item.event,
          errorKind: error.kind,
          errorCode: error.code,
          errorMessage:
            decision.reason === 'exhausted'
              ? `gave up after ${item.attemptsMade + 1} attempts: ${error.message}`
              : error.message,
          errorDetails: redact({ body: error.body, payload: record.payload }),
          providerStatus: error.status,
          attempts: item.attemptsMade + 1,
        });
        outcomes[index] = { kind: 'dead_lettered', failureId, error };
        log.push(
          logEntry(rt, item, record.operation, 'failed', calls, describe(error), link?.externalId, duration),
        );
      } else {
        pause ??= { reason: decision.reason, untilMs: decision.untilMs };
        outcomes[index] = { kind: 'paused', reason: decision.reason, untilMs: decision.untilMs };
        log.push(
          logEntry(
            rt,
            item,
            record.operation,
            'retrying',
            calls,
            decision.reason,
            link?.externalId,
            duration,
          ),
        );
      }
    }
  }

  await saveSyncedLinks(deps.db, integrationId, linkWrites);
  await saveLinkErrors(deps.db, integrationId, linkErrors);
  await appendSyncLog(deps.db, log);
  countSyncedRecords(rt.integration.key, log);
  if (pause) await deps.pauseIntegration(pause.reason, pause.untilMs);
  if (newIds.length > 0 && deps.onNewExternalIds) await deps.onNewExternalIds(newIds);
  return outcomes;
}

/**
 * A record's dead letter: one open failure per record for its state (a later state replaces an
 * earlier one's), one per event for a delta (each must be applied).
 */
export function syncFailureKey(
  integrationId: string,
  ref: { entityType: string; entityId: string },
  operation: Operation,
  eventId: string,
): string {
  const which = classOf(operation) === 'state' ? 'state' : eventId;
  return `sync:${integrationId}:${ref.entityType}:${ref.entityId}:${which}`;
}

/**
 * Logs records whose later change was routed (its own job pushes the newest state) as skipped,
 * `superseded`, in one statement, without the connector's batcher: during an update storm they
 * would otherwise take seats in provider batches, which would then leave with fewer records and
 * spend more of the account's request budget.
 */
export async function logSuperseded(
  rt: IntegrationRuntime,
  items: readonly SyncItem[],
  deps: Pick<SyncBatchDeps, 'db'>,
): Promise<void> {
  if (items.length === 0) return;
  const links = await findLinks(
    deps.db,
    rt.integration.id,
    items.map((i) => i.ref),
  );
  const log = items.map((item) => {
    const link = links.get(linkKey(item.ref.entityType, item.ref.entityId));
    return logEntry(rt, item, 'skip', 'skipped', 0, 'superseded', link?.externalId);
  });
  await appendSyncLog(deps.db, log);
  countSyncedRecords(rt.integration.key, log);
}

/**
 * What the sync hash covers: the mapped payload, plus the snapshot fields the connector reads
 * itself (Mailchimp's tags), so that a change to only those is not skipped as unchanged.
 */
function hashInputOf(
  rt: IntegrationRuntime,
  payload: Record<string, unknown>,
  snapshot: Record<string, unknown>,
): Record<string, unknown> {
  const fields = rt.connector.hashedSnapshotFields;
  if (!fields || fields.length === 0) return payload;
  return { ...payload, $snapshot: Object.fromEntries(fields.map((f) => [f, snapshot[f]])) };
}

function describe(error: ConnectorError): string {
  const code = error.code ? ` ${error.code}` : '';
  const status = error.status ? ` (HTTP ${error.status})` : '';
  return `${error.kind}${code}${status}: ${error.message}`;
}

function logEntry(
  rt: IntegrationRuntime,
  item: SyncItem,
  action: string,
  result: SyncLogEntry['result'],
  apiCalls: number,
  error: string | null,
  externalId: string | null | undefined,
  durationMs = 0,
): SyncLogEntry {
  return {
    integrationId: rt.integration.id,
    entityType: item.ref.entityType,
    entityId: item.ref.entityId,
    eventId: item.event.id,
    eventType: item.event.type,
    action,
    result,
    externalId: externalId ?? null,
    apiCalls,
    durationMs,
    error,
  };
}

function crmExternalIdOf(event: CrmEvent): string | null {
  if (event.type === 'CRM_LIST_MEMBER_ADDED' || event.type === 'CRM_LIST_MEMBER_REMOVED') return null;
  const id = snapshotOf(event).externalId;
  return typeof id === 'string' ? id : null;
}

/**
 * The provider list of a CRM list: its `mappings.lists` target; when the integration maps some
 * lists, the others are not synced (null). When it maps none, there is no target (undefined) and
 * the connector decides: its default differs by provider (HubSpot syncs every list to one named
 * after it; Mailchimp syncs only the lists its own `settings.lists` maps), so a name chosen here
 * would override a choice that is not the engine's to make.
 */
function listTargetOf(
  rt: IntegrationRuntime,
  list: { id: string | number; name?: string | null | undefined },
): string | null | undefined {
  const lists = rt.integration.config.mappings?.lists;
  if (!lists) return undefined;
  return lists.find((l) => l.crmListId === String(list.id))?.target ?? null;
}

function crmEmailOf(item: SyncItem): string | null {
  if (item.ref.entityType !== 'contact') return null;
  const email = snapshotOf(item.event).email;
  return typeof email === 'string' && email !== '' ? email : null;
}
