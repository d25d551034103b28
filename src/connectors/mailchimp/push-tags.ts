import { PermanentError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import type { MemberLinkState } from './link-state.js';
import type { PushContext } from './push-context.js';

/**
 * CRM_CONTACT_TAG_ADDED/REMOVED for a linked member: one tags call. A removal only touches a tag
 * the CRM set itself (recorded on the link); a tag marketing added by hand stays.
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
  if (!adding && owned.length === linked.tags.length) {
    return { status: 'skipped', reason: `tag "${tag}" was not set by the CRM, so it is left as it is` };
  }
  try {
    await ctx.api.updateTags(linked.subscriberHash, [{ name: tag, status: adding ? 'active' : 'inactive' }]);
  } catch (error) {
    if ((error as { status?: number }).status === 404) {
      throw new PermanentError(
        `the member ${linked.email} is no longer in audience ${linked.listId} (archived or deleted in Mailchimp)`,
        { code: 'MEMBER_GONE', status: 404 },
      );
    }
    throw error;
  }
  const state: MemberLinkState = { ...linked, tags: adding ? [...owned, tag] : owned };
  ctx.states.set(record.entityId, state);
  return { status: 'ok', externalId: linked.memberId, state };
}
