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
    const problem = await whyNotReplayable(deps, failure);
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
    if (isWriteBack(failure)) {
      await replayWriteBack(deps, failure);
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

/**
 * A write-back is re-run from what is true now: the link's provider id (it may have changed
 * since) and the integration's write-back property, not from what failed.
 */
async function writeBackNow(deps: ReplayDeps, failure: FailureRow) {
  const rt = await deps.runtime(failure.integrationId!);
  const property = rt?.integration.config.writeBack?.property;
  const link = await findLink(deps.db, failure.integrationId!, 'contact', failure.entityId!);
  return { rt, property, externalId: link?.externalId ?? null };
}

async function whyNotWriteBack(deps: ReplayDeps, failure: FailureRow): Promise<string | null> {
  if (!deps.writeBack?.enabled) return 'write-backs are off here (CRM_API_URL and CRM_API_KEY are not set)';
  const { rt, property, externalId } = await writeBackNow(deps, failure);
  if (!rt) return 'its integration no longer exists';
  if (!property) return 'its integration no longer writes ids back (no writeBack.property)';
  if (!externalId) return 'its contact has no provider id to write back any more';
  return null;
}

async function replayWriteBack(deps: ReplayDeps, failure: FailureRow): Promise<void> {
  const { property, externalId } = await writeBackNow(deps, failure);
  await deps.writeBack!.enqueue([
    {
      integrationId: failure.integrationId!,
      contactId: failure.entityId!,
      property: property!,
      externalId: externalId!,
      replayOf: failure.id,
    },
  ]);
}

async function whyNotReplayable(deps: ReplayDeps, failure: FailureRow): Promise<string | null> {
  if (failure.status !== 'open') return `it is ${failure.status}, not open`;
  if (isWriteBack(failure)) return whyNotWriteBack(deps, failure);
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
