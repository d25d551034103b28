import { z } from 'zod';
import type { Member } from './responses.js';

/**
 * What a contact's link remembers of its member, for the next push and for the pull side:
 * `memberId` is Mailchimp's stable `contact_id` (also the link's external id, and the path every
 * later write of this member uses, wherever its address went), the hash and email address the
 * member had when last synced, the CRM's email address last pushed (`crmEmail`: the address is
 * sent again only when the CRM changed it, so a subscriber's own change in Mailchimp is not
 * undone by an unrelated CRM update), the last status seen (pull brings unsubscribes back), the
 * tags the CRM set and still owns, and, when crm-sync archived the member itself, the status it
 * had then (`restoreStatus`: a contact that comes back is restored to it, never to more).
 */
export const MemberLinkState = z.object({
  listId: z.string(),
  memberId: z.string(),
  subscriberHash: z.string().regex(/^[0-9a-f]{32}$/),
  email: z.string(),
  status: z.string(),
  tags: z.array(z.string()).default([]),
  lastChanged: z.string().optional(),
  crmEmail: z.string().optional(),
  restoreStatus: z.string().optional(),
});
export type MemberLinkState = z.infer<typeof MemberLinkState>;

/**
 * The link's state when it describes a member of this audience; null for a link made for another
 * audience (the integration's listId changed) or written by someone else.
 */
export function readMemberState(state: Record<string, unknown>, listId: string): MemberLinkState | null {
  const parsed = MemberLinkState.safeParse(state);
  return parsed.success && parsed.data.listId === listId ? parsed.data : null;
}

export function memberStateOf(
  member: Member,
  listId: string,
  ownedTags: readonly string[],
  crmEmail?: string,
): MemberLinkState {
  return {
    listId,
    memberId: member.contact_id ?? member.id,
    subscriberHash: member.id,
    email: member.email_address,
    status: member.status,
    tags: [...ownedTags],
    ...(member.last_changed ? { lastChanged: member.last_changed } : {}),
    ...(crmEmail ? { crmEmail } : {}),
  };
}

/** The path segment that names this member: its contact_id, stable across address changes. */
export const memberRef = (state: Pick<MemberLinkState, 'memberId' | 'subscriberHash'>) =>
  state.memberId || state.subscriberHash;
