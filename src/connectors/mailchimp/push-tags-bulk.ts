import { z } from 'zod';
import type { PushRecord, PushResult } from '../types.js';
import { runBatch } from './batch-run.js';
import { type MemberLinkState, memberRef } from './link-state.js';
import type { MemberTag, OperationOutcome } from './mailchimp-api.js';
import { type PushContext, settle } from './push-context.js';
import {
  archivedReason,
  memberGone,
  type ResolvedWrite,
  resolveFailedWrite,
  type SeenMember,
  seenOf,
  type TagStep,
  tagStep,
  withSeenStatus,
  writeNeedsRead,
} from './push-tags.js';
import { MemberTags } from './responses.js';

/**
 * Tag events of many linked members as batch operation runs: one run reading the members whose
 * events need a read (see `tagStep`), then one run of one tags POST per member, then, only when
 * some of those failed with a 404 or a retryable error, one run reading those members again to
 * tell what the failure means (`resolveFailedWrite`: applied after all, archived, deleted). Each
 * record gets the result `applyTagEvent` would give it; the requests go from two per event to
 * two runs of about three requests each. A contact's events are walked in order on top of its link, with
 * its one read kept up to date by the changes before them, as the direct calls would see it.
 */
export interface TagChain {
  entityId: string;
  /** The link state the first event builds on. */
  linked: MemberLinkState;
  records: readonly { position: number; record: PushRecord }[];
}

/** The events of these chains that need a request: what `batchUpdatesFrom` is compared with. */
export function eventsNeedingRequests(chains: readonly TagChain[]): number {
  // Which events after a read send something depends on what it finds: they all count.
  return chains.reduce((count, chain) => count + chain.records.length - walk(chain).skipped, 0);
}

export async function applyTagEventsInBulk(
  chains: readonly TagChain[],
  ctx: PushContext,
): Promise<Map<number, PushResult>> {
  const { listId } = ctx.settings;
  const results = new Map<number, PushResult>();
  const toRead = chains.filter((chain) => walk(chain).read);
  const reads = await runBatch(
    ctx,
    toRead.map((chain) => ({
      method: 'GET' as const,
      path: `/lists/${listId}/members/${memberRef(chain.linked)}`,
      params: { fields: 'id,status,tags' },
    })),
    { schema: MemberTags, operation: 'GET member', item: "this member's read" },
  );
  const seen = new Map(toRead.map((chain, i) => [chain, reads[i] as OperationOutcome<MemberTags>]));

  const planned: { chain: TagChain; plan: Plan }[] = [];
  for (const chain of chains) {
    const read = seen.get(chain);
    if (read && !read.ok) {
      const error = await settle(ctx, async () => {
        throw await memberGone(ctx, chain.linked, read.error);
      });
      for (const { position } of chain.records) results.set(position, error);
      continue;
    }
    const member = read?.ok ? seenOf(read.value) : undefined;
    planned.push({ chain, plan: walk(chain, member) });
  }

  const toWrite = planned.filter(({ plan }) => plan.changes.length > 0);
  const writes = await runBatch(
    ctx,
    toWrite.map(({ chain, plan }) => ({
      method: 'POST' as const,
      path: `/lists/${listId}/members/${memberRef(chain.linked)}/tags`,
      body: JSON.stringify({ tags: plan.changes }),
    })),
    // Mailchimp answers a tags POST 204 No Content: nothing in it is relied on.
    { schema: z.unknown(), operation: 'POST member tags', item: "this member's tag changes" },
  );
  const written = new Map(toWrite.map(({ chain }, i) => [chain, writes[i] as OperationOutcome<unknown>]));

  // The writes whose failure a read can explain: the same read as the first run's, one run.
  const toCheck = toWrite.filter(({ chain }) => {
    const write = written.get(chain);
    return write !== undefined && !write.ok && writeNeedsRead(write.error);
  });
  const checks = await runBatch(
    ctx,
    toCheck.map(({ chain }) => ({
      method: 'GET' as const,
      path: `/lists/${listId}/members/${memberRef(chain.linked)}`,
      params: { fields: 'id,status,tags' },
    })),
    { schema: MemberTags, operation: 'GET member', item: "this member's read" },
  );
  const checked = new Map(toCheck.map(({ chain }, i) => [chain, checks[i] as OperationOutcome<MemberTags>]));

  for (const { chain, plan } of planned) {
    const write = written.get(chain);
    const resolved: ResolvedWrite | undefined =
      write && !write.ok
        ? await resolveFailedWrite(ctx, chain.linked, plan.changes, write.error, checked.get(chain))
        : undefined;
    const failure =
      resolved?.kind === 'error'
        ? await settle(ctx, async () => {
            throw resolved.error;
          })
        : null;
    const seenAfter = resolved?.kind === 'done' ? resolved.seen : undefined;
    const after = (state: MemberLinkState) => (seenAfter ? withSeenStatus(state, seenAfter) : state);
    if (write?.ok || seenAfter) ctx.states.set(chain.entityId, after(plan.state));
    chain.records.forEach(({ position }, i) => {
      const step = plan.steps[i] as TagStep;
      if (step.kind === 'skip') results.set(position, { status: 'skipped', reason: step.reason });
      else if (failure) results.set(position, failure);
      else if (resolved?.kind === 'archived')
        results.set(position, { status: 'skipped', reason: archivedReason(chain.linked) });
      else if (step.kind === 'send')
        results.set(position, { status: 'ok', externalId: chain.linked.memberId, state: after(step.state) });
    });
  }
  return results;
}

interface Plan {
  /** The member must be read before the steps after `steps` are known. */
  read: boolean;
  steps: TagStep[];
  /** The member's tag changes, in the order of the events, the later event winning per name. */
  changes: MemberTag[];
  state: MemberLinkState;
  /** Events skipped with no request, of those walked. */
  skipped: number;
}

/**
 * The chain's events on top of its link, without a read (stopping at the first event that needs
 * one) or with the member as read, kept up to date with the changes before each event.
 */
function walk(chain: TagChain, member?: SeenMember): Plan {
  let state = chain.linked;
  const present = member ? new Set(member.tags.map((t) => t.toLowerCase())) : undefined;
  const steps: TagStep[] = [];
  const changes = new Map<string, MemberTag>();
  let skipped = 0;
  for (const { record } of chain.records) {
    const seen = member && present ? { status: member.status, tags: [...present] } : undefined;
    const step = tagStep(record, state, seen);
    if (step.kind === 'read') {
      return { read: true, steps, changes: [], state, skipped };
    }
    steps.push(step);
    if (step.kind === 'skip') {
      skipped += 1;
      continue;
    }
    const key = step.change.name.toLowerCase();
    changes.delete(key);
    changes.set(key, step.change);
    if (step.change.status === 'active') present?.add(key);
    else present?.delete(key);
    state = step.state;
  }
  return { read: false, steps, changes: [...changes.values()], state, skipped };
}
