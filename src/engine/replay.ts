import type { Queue } from 'bullmq';
import { CrmEvent } from '../events/envelope.js';
import type { Db } from '../store/db.js';
import { type FailureRow, getFailure, listFailures, markReplaying } from '../store/failures-repo.js';
import { findLink } from '../store/links-repo.js';
import { entityRefOf } from './entity-ref.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import { type SyncJobInput, syncJobOptions } from './sync-job.js';
import { type WriteBackQueue, writeBackFailureKey } from './write-back-queue.js';

export interface ReplaySelection {
  ids?: number[];
  integrationId?: string;
  since?: Date;
  code?: string;
  dryRun?: boolean;
}

export interface ReplayResult {
  id: number;
  status: 'queued' | 'would_replay' | 'not_replayable';
  reason?: string;
  integrationId?: string | null;
  entity?: string;
  eventId?: string | null;
}

export interface ReplayDeps {
  db: Db;
  runtime(integrationId: string): Promise<IntegrationRuntime | null>;
  queueFor(integrationId: string): Queue;
  /** Where a failed write-back of a provider id to the CRM is re-run. */
  writeBack?: Pick<WriteBackQueue, 'enabled' | 'enqueue'>;
}

/**
 * Re-runs dead letters through the normal sync path, against the links as they are now: a
 * record synced meanwhile by a newer event is skipped as stale, one whose provider id is known
 * now is updated, not created. Each failure is claimed (`replaying`) before it is queued, so two
 * operators replaying at once queue it once; the job closes it (`replayed`) or, if it fails
 * again, reopens the same row: a replay never adds a second dead letter.
 */
export async function replayFailures(deps: ReplayDeps, selection: ReplaySelection): Promise<ReplayResult[]> {
  const failures = await selectFailures(deps.db, selection);
  const results: ReplayResult[] = [];
  for (const failure of failures) {
    const base = {
      id: failure.id,
      integrationId: failure.integrationId,
      entity: failure.entityType ? `${failure.entityType}:${failure.entityId}` : undefined,
      eventId: failure.eventId,
    };
    // A write-back is planned once: its checks and its job read the same runtime and link.
    const writeBack = isWriteBack(failure) ? await planWriteBack(deps, failure) : null;
    const problem = writeBack ? writeBack.problem : await whyNotReplayable(deps, failure);
    if (problem) {
      results.push({ ...base, status: 'not_replayable', reason: problem });
      continue;
    }
    if (selection.dryRun) {
      results.push({ ...base, status: 'would_replay' });
      continue;
    }
    const claimed = await markReplaying(deps.db, failure.id);
    if (!claimed) {
      results.push({ ...base, status: 'not_replayable', reason: `it is ${failure.status}, not open` });
      continue;
    }
    if (writeBack?.job) {
      await deps.writeBack!.enqueue([writeBack.job]);
      results.push({ ...base, status: 'queued' });
      continue;
    }
    const event = CrmEvent.parse(failure.event);
    const rt = (await deps.runtime(failure.integrationId!))!;
    const ref = entityRefOf(event);
    const operation = rt.operationFor(event.type, ref.entityType)!;
    const data: SyncJobInput = {
      integrationId: rt.integration.id,
      items: [{ ...ref, operation, event, replayOf: failure.id }],
    };
    await deps.queueFor(rt.integration.id).add('replay', data, {
      ...syncJobOptions('live', true),
      jobId: `replay-${failure.id}-${claimed.replayCount + 1}`,
    });
    results.push({ ...base, status: 'queued' });
  }
  return results;
}

async function selectFailures(db: Db, selection: ReplaySelection): Promise<FailureRow[]> {
  if (selection.ids && selection.ids.length > 0) {
    const rows = await Promise.all(selection.ids.map((id) => getFailure(db, id)));
    const missing = selection.ids.filter((_, i) => rows[i] === null);
    if (missing.length > 0) throw new Error(`no dead letter with id ${missing.join(', ')}`);
    return rows as FailureRow[];
  }
  if (!selection.integrationId) throw new Error('replay needs failure ids or an integration');
  const out: FailureRow[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await listFailures(db, {
      integrationId: selection.integrationId,
      status: 'open',
      stage: 'sync',
      ...(selection.since ? { since: selection.since } : {}),
      ...(selection.code ? { code: selection.code } : {}),
      limit: 500,
      offset,
    });
    out.push(...page);
    if (page.length < 500) return out;
  }
}

const isWriteBack = (failure: FailureRow) =>
  failure.integrationId !== null &&
  failure.entityId !== null &&
  failure.failureKey === writeBackFailureKey(failure.integrationId, failure.entityId);

type WriteBackPlan =
  | { problem: string; job?: undefined }
  | { problem: null; job: Parameters<WriteBackQueue['enqueue']>[0][number] };

/**
 * A write-back is re-run from what is true now: the link's provider id (it may have changed
 * since) and the integration's write-back property, not from what failed.
 */
async function planWriteBack(deps: ReplayDeps, failure: FailureRow): Promise<WriteBackPlan> {
  if (failure.status !== 'open') return { problem: `it is ${failure.status}, not open` };
  if (!deps.writeBack?.enabled) {
    return { problem: 'write-backs are off here (CRM_API_URL and CRM_API_KEY are not set)' };
  }
  const integrationId = failure.integrationId!;
  const contactId = failure.entityId!;
  const rt = await deps.runtime(integrationId);
  if (!rt) return { problem: 'its integration no longer exists' };
  const property = rt.integration.config.writeBack?.property;
  if (!property) return { problem: 'its integration no longer writes ids back (no writeBack.property)' };
  const externalId = (await findLink(deps.db, integrationId, 'contact', contactId))?.externalId;
  if (!externalId) return { problem: 'its contact has no provider id to write back any more' };
  return { problem: null, job: { integrationId, contactId, property, externalId, replayOf: failure.id } };
}

async function whyNotReplayable(deps: ReplayDeps, failure: FailureRow): Promise<string | null> {
  if (failure.status !== 'open') return `it is ${failure.status}, not open`;
  if (failure.stage === 'ingest') {
    return 'a malformed event cannot be replayed: fix it at the source and publish it again';
  }
  if (!failure.integrationId) return 'it belongs to no integration';
  if (!CrmEvent.safeParse(failure.event).success) return 'its stored event no longer validates';
  const rt = await deps.runtime(failure.integrationId);
  if (!rt) return 'its integration no longer exists';
  const event = CrmEvent.parse(failure.event);
  if (!rt.operationFor(event.type, entityRefOf(event).entityType))
    return 'its integration no longer handles this event';
  return null;
}
