import { PermanentError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { type MemberLinkState, memberRef } from './link-state.js';
import { checkAudience, type PushContext } from './push-context.js';

/**
 * CRM_CONTACT_TAG_ADDED/REMOVED for a linked member: one tags call. A removal only touches a tag
 * the CRM set itself (recorded on the link); a tag marketing added by hand stays. An addition
 * reads the member's tags first: a tag someone else already put on the member stays theirs (the
 * CRM neither sends it nor takes it over), or a later removal in the CRM would delete it.
 */
export async function applyTagEvent(
  record: PushRecord,
  linked: MemberLinkState,
  ctx: PushContext,
): Promise<PushResult> {
  const { event } = record;
  if (event.type !== 'CRM_CONTACT_TAG_ADDED' && event.type !== 'CRM_CONTACT_TAG_REMOVED') {
    return { status: 'skipped', reason: `${event.type} is not a tag event` };
  }
  const tag = event.data.tag;
  const key = tag.toLowerCase();
  const owned = linked.tags.filter((t) => t.toLowerCase() !== key);
  const adding = event.type === 'CRM_CONTACT_TAG_ADDED';
  const alreadyOwned = owned.length !== linked.tags.length;
  if (!adding && !alreadyOwned) {
    return { status: 'skipped', reason: `tag "${tag}" was not set by the CRM, so it is left as it is` };
  }
  const ref = memberRef(linked);
  const gone = async (error: unknown) => {
    // A deleted audience answers 404 for every member too: that is a config error (pause).
    if ((error as { status?: number }).status === 404) await checkAudience(ctx);
    return (error as { status?: number }).status === 404
      ? new PermanentError(
          `the member ${linked.email} is no longer in audience ${linked.listId} (deleted in Mailchimp)`,
          { code: 'MEMBER_GONE', status: 404 },
        )
      : error;
  };
  try {
    if (adding && !alreadyOwned) {
      const member = await ctx.api.getMember(ref);
      if (member.tags?.some((t) => t.name.toLowerCase() === key)) {
        return {
          status: 'skipped',
          reason: `tag "${tag}" is already on the member, set outside the CRM: it stays theirs, and the CRM will not remove it`,
        };
      }
    }
    await ctx.api.updateTags(ref, [{ name: tag, status: adding ? 'active' : 'inactive' }]);
  } catch (error) {
    throw await gone(error);
  }
  const state: MemberLinkState = { ...linked, tags: adding ? [...owned, tag] : owned };
  ctx.states.set(record.entityId, state);
  return { status: 'ok', externalId: linked.memberId, state };
}
