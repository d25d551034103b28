import { readMemberState } from './link-state.js';
import type { LocatedMember, PushContext } from './push-context.js';
import { subscriberHash } from './subscriber-hash.js';

/**
 * Finds the member of another CRM record (the contact of an activity or a list membership, a
 * merge's loser): written earlier in this push, else its link, else by email when one is known.
 */
export async function locateMember(
  ctx: PushContext,
  contactId: string,
  fallbackEmail?: string | null,
): Promise<LocatedMember | null> {
  const inBatch = ctx.members.get(contactId);
  if (inBatch) return inBatch;
  const link = await ctx.lookupLink?.('contact', contactId);
  const state = link ? readMemberState(link.state, ctx.settings.listId) : null;
  if (state) return { hash: state.subscriberHash, memberId: state.memberId, email: state.email };
  if (fallbackEmail && fallbackEmail.trim() !== '') {
    return { hash: subscriberHash(fallbackEmail), memberId: null, email: fallbackEmail.trim() };
  }
  return null;
}
