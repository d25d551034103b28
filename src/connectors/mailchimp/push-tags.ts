import { PermanentError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { type MemberLinkState, memberRef } from './link-state.js';
import type { MemberTag } from './mailchimp-api.js';
import { checkAudience, type PushContext } from './push-context.js';

/**
 * CRM_CONTACT_TAG_ADDED/REMOVED for a linked member. A removal only touches a tag the CRM set
 * itself (recorded on the link); a tag marketing added by hand stays. An addition of a tag the
 * CRM does not own reads the member first: a tag someone else already put on the member stays
 * theirs (the CRM neither sends it nor takes it over), or a later removal in the CRM would delete
 * it. An archived member takes no tag changes (Mailchimp answers 404, which would read as a
 * deleted member): they follow when it is back, with the contact's next write. One decision
 * (`tagStep`) serves the direct calls here and the batch runs of push-tags-bulk.ts.
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
  if (seen?.status === 'archived') {
    return {
      kind: 'skip',
      reason: `the member ${linked.email} is archived in Mailchimp, which takes no tag changes; the CRM's tags follow when it is back`,
    };
  }
  if (adding && !alreadyOwned && seen?.tags.some((t) => t.toLowerCase() === key)) {
    return {
      kind: 'skip',
      reason: `tag "${tag}" is already on the member, set outside the CRM: it stays theirs, and the CRM will not remove it`,
    };
  }
  return {
    kind: 'send',
    change: { name: tag, status: adding ? 'active' : 'inactive' },
    state: { ...linked, tags: adding ? [...owned, tag] : owned },
  };
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
    if (step.kind === 'read') {
      const member = await ctx.api.getMember(ref);
      step = tagStep(record, linked, { status: member.status, tags: (member.tags ?? []).map((t) => t.name) });
    }
    if (step.kind === 'skip') return { status: 'skipped', reason: step.reason };
    if (step.kind === 'read') throw new Error('a tag event asked for a read it was given (a connector bug)');
    await ctx.api.updateTags(ref, [step.change]);
  } catch (error) {
    throw await memberGone(ctx, linked, error);
  }
  ctx.states.set(record.entityId, step.state);
  return { status: 'ok', externalId: linked.memberId, state: step.state };
}
