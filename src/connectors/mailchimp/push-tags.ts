import { classifyUnknown, PermanentError, RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { type MemberLinkState, memberRef } from './link-state.js';
import type { MemberTag, OperationOutcome } from './mailchimp-api.js';
import { checkAudience, type PushContext } from './push-context.js';

/**
 * CRM_CONTACT_TAG_ADDED/REMOVED for a linked member. A removal only touches a tag the CRM set
 * itself (recorded on the link); a tag marketing added by hand stays. An addition of a tag the
 * CRM does not own reads the member first: a tag someone else already put on the member stays
 * theirs (the CRM neither sends it nor takes it over), or a later removal in the CRM would delete
 * it. An archived member takes no tag changes (Mailchimp answers 404, which would read as a
 * deleted member): they follow when it is back, with the contact's next write. One decision
 * (`tagStep`) serves the direct calls here and the batch runs of push-tags-bulk.ts, and so does
 * what a failed tags write turns out to be (`resolveFailedWrite`): a retryable failure may have
 * been applied all the same, and a 404 may be a member archived since the link last saw it, so
 * both read the member before the records get their results.
 */

/** What the member is in Mailchimp, when it was read for this event. */
export interface SeenMember {
  status: string;
  tags: readonly string[];
}

export type TagStep =
  | { kind: 'skip'; reason: string }
  /** The member must be read first (`SeenMember`), then the step asked again. */
  | { kind: 'read' }
  /** One tag change to send, and the link state once it is done. */
  | { kind: 'send'; change: MemberTag; state: MemberLinkState };

/** The decision for one event on top of `linked`; given `seen`, never `read`. */
export function tagStep(record: PushRecord, linked: MemberLinkState, seen?: SeenMember): TagStep {
  const { event } = record;
  if (event.type !== 'CRM_CONTACT_TAG_ADDED' && event.type !== 'CRM_CONTACT_TAG_REMOVED') {
    return { kind: 'skip', reason: `${event.type} is not a tag event` };
  }
  const tag = event.data.tag;
  const key = tag.toLowerCase();
  const owned = linked.tags.filter((t) => t.toLowerCase() !== key);
  const adding = event.type === 'CRM_CONTACT_TAG_ADDED';
  const alreadyOwned = owned.length !== linked.tags.length;
  if (!adding && !alreadyOwned) {
    return { kind: 'skip', reason: `tag "${tag}" was not set by the CRM, so it is left as it is` };
  }
  // A link last seen archived may be back by now (marketing restored it): only a read can tell.
  if (!seen && ((adding && !alreadyOwned) || linked.status === 'archived')) return { kind: 'read' };
  if (seen?.status === 'archived') return { kind: 'skip', reason: archivedReason(linked) };
  if (adding && !alreadyOwned && seen?.tags.some((t) => t.toLowerCase() === key)) {
    return {
      kind: 'skip',
      reason: `tag "${tag}" is already on the member, set outside the CRM: it stays theirs, and the CRM will not remove it`,
    };
  }
  const state = { ...linked, tags: adding ? [...owned, tag] : owned };
  return {
    kind: 'send',
    change: { name: tag, status: adding ? 'active' : 'inactive' },
    state: seen ? withSeenStatus(state, seen) : state,
  };
}

export const archivedReason = (linked: MemberLinkState) =>
  `the member ${linked.email} is archived in Mailchimp, which takes no tag changes; the CRM's tags follow when it is back`;

export const seenOf = (member: { status: string; tags?: readonly { name: string }[] | undefined }) => ({
  status: member.status,
  tags: (member.tags ?? []).map((t) => t.name),
});

/**
 * The link state once the member was read: the status seen (a link last seen archived that
 * marketing restored is read no more), and no `restoreStatus` for a member that is not archived
 * (it is only for a contact crm-sync archived coming back).
 */
export function withSeenStatus(state: MemberLinkState, seen: SeenMember): MemberLinkState {
  if (seen.status === 'archived') return { ...state, status: seen.status };
  const { restoreStatus: _dropped, ...rest } = state;
  return { ...rest, status: seen.status };
}

/** Whether all these changes are in effect on the member as read (names case-insensitive). */
export function changesInEffect(changes: readonly MemberTag[], seen: SeenMember): boolean {
  const present = new Set(seen.tags.map((t) => t.toLowerCase()));
  return changes.every((change) => present.has(change.name.toLowerCase()) === (change.status === 'active'));
}

/**
 * Whether a failed tags write needs the member read to know what it means: a 404 (deleted, or
 * archived since the link last saw it?) or a retryable failure (applied or not?). A permanent
 * answer, a rate limit (refused, not applied) or an auth or config error does not.
 */
export function writeNeedsRead(error: unknown): boolean {
  const classified = classifyUnknown(error);
  return classified.status === 404 || classified.kind === 'retryable';
}

export type ResolvedWrite =
  /** The changes are all in effect: the write happened. */
  | { kind: 'done'; seen: SeenMember }
  /** A 404 for a member that is archived: its tag events are skipped. */
  | { kind: 'archived' }
  | { kind: 'error'; error: unknown };

/**
 * What a member's failed tags write (`changes`, all of that member's) means, given the member's
 * read when `writeNeedsRead` asked for one. A 404: archived → skipped; a 404 on the read too →
 * MEMBER_GONE (after the audience check); a member that is there → retried. A retryable failure:
 * done when every change is in effect, else (or when the read failed) the failure itself.
 * Never throws: a failed audience check comes back as the error.
 */
export async function resolveFailedWrite(
  ctx: PushContext,
  linked: MemberLinkState,
  changes: readonly MemberTag[],
  error: unknown,
  read: OperationOutcome<{ status: string; tags?: readonly { name: string }[] | undefined }> | undefined,
): Promise<ResolvedWrite> {
  try {
    if ((error as { status?: number }).status === 404) {
      if (!read) return { kind: 'error', error: await memberGone(ctx, linked, error) };
      if (!read.ok) return { kind: 'error', error: await memberGone(ctx, linked, read.error) };
      if (read.value.status === 'archived') return { kind: 'archived' };
      return {
        kind: 'error',
        error: new RetryableError(
          `Mailchimp answered 404 to the tag changes of ${linked.email}, which is ${read.value.status} in audience ${linked.listId}`,
          { code: 'TAGS_NOT_APPLIED' },
        ),
      };
    }
    if (!read?.ok) return { kind: 'error', error };
    const seen = seenOf(read.value);
    return changesInEffect(changes, seen) ? { kind: 'done', seen } : { kind: 'error', error };
  } catch (failure) {
    return { kind: 'error', error: failure };
  }
}

/**
 * What a failed read or tag change of a linked member means: a 404 is MEMBER_GONE (permanent),
 * unless the audience itself is gone, which `checkAudience` throws as a config error (pause).
 */
export async function memberGone(
  ctx: PushContext,
  linked: MemberLinkState,
  error: unknown,
): Promise<unknown> {
  if ((error as { status?: number }).status !== 404) return error;
  await checkAudience(ctx);
  return new PermanentError(
    `the member ${linked.email} is no longer in audience ${linked.listId} (deleted in Mailchimp)`,
    { code: 'MEMBER_GONE', status: 404 },
  );
}

/** One tag event with direct calls: the member's read when needed, then one tags call. */
export async function applyTagEvent(
  record: PushRecord,
  linked: MemberLinkState,
  ctx: PushContext,
): Promise<PushResult> {
  const ref = memberRef(linked);
  let step: TagStep;
  try {
    step = tagStep(record, linked);
    if (step.kind === 'read') step = tagStep(record, linked, seenOf(await ctx.api.getMember(ref)));
  } catch (error) {
    throw await memberGone(ctx, linked, error);
  }
  if (step.kind === 'skip') return { status: 'skipped', reason: step.reason };
  if (step.kind === 'read') throw new Error('a tag event asked for a read it was given (a connector bug)');
  let state = step.state;
  try {
    await ctx.api.updateTags(ref, [step.change]);
  } catch (error) {
    const read = writeNeedsRead(error)
      ? await ctx.api.getMember(ref).then(
          (value) => ({ ok: true as const, value }),
          (failure) => ({ ok: false as const, error: classifyUnknown(failure) }),
        )
      : undefined;
    const resolved = await resolveFailedWrite(ctx, linked, [step.change], error, read);
    if (resolved.kind === 'archived') return { status: 'skipped', reason: archivedReason(linked) };
    if (resolved.kind === 'error') throw resolved.error;
    state = withSeenStatus(state, resolved.seen);
  }
  ctx.states.set(record.entityId, state);
  return { status: 'ok', externalId: linked.memberId, state };
}
