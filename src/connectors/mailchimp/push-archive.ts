import type { Contact, Merge } from '../../events/snapshots.js';
import type { PushRecord, PushResult } from '../types.js';
import { EMAIL_KEY } from './default-mappings.js';
import { type MemberLinkState, memberRef, readMemberState } from './link-state.js';
import { locateMember } from './member-locator.js';
import type { PushContext } from './push-context.js';
import { subscriberHash } from './subscriber-hash.js';

/**
 * Archives or deletes a member (per deleteMode). A 404 means it is already gone: the goal is
 * reached. Mailchimp answers 405 "This list member cannot be removed" for a member that is
 * already archived, or pending or cleaned (neither can be archived, and neither gets mail):
 * nothing more can be done, which is an outcome to report, not a failure to retry or dead-letter.
 */
async function removeMember(ctx: PushContext, ref: string): Promise<'removed' | 'not_removable'> {
  try {
    if (ctx.settings.deleteMode === 'delete') await ctx.api.deleteMemberPermanently(ref);
    else await ctx.api.archiveMember(ref);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 405) return 'not_removable';
    if (status !== 404) throw error;
  }
  return 'removed';
}

/**
 * CRM_CONTACT_ARCHIVED/DELETED, per settings.deleteMode: archive (default; Mailchimp keeps the
 * history and the unsubscribe), ignore, or delete — permanent, only when set explicitly.
 */
export async function archiveContact(
  record: PushRecord,
  contact: Contact | null,
  ctx: PushContext,
): Promise<PushResult> {
  if (ctx.settings.deleteMode === 'ignore') {
    return { status: 'skipped', reason: 'deleteMode is "ignore": the member stays in the audience' };
  }
  const linked = record.externalId ? readMemberState(record.state, ctx.settings.listId) : null;
  const email = linked?.email ?? (record.payload[EMAIL_KEY] as string | undefined) ?? contact?.email ?? null;
  if (!linked && !email)
    return { status: 'skipped', reason: 'never synced and no email address to find the member by' };
  const outcome = await removeMember(ctx, linked ? memberRef(linked) : subscriberHash(String(email)));
  if (outcome === 'not_removable') {
    return {
      status: 'skipped',
      reason: `Mailchimp cannot ${ctx.settings.deleteMode === 'delete' ? 'delete' : 'archive'} this member (405: it is already archived, or pending or cleaned); it stays as it is`,
    };
  }
  if (ctx.settings.deleteMode === 'delete' || !linked)
    return {
      status: 'ok',
      externalId: record.externalId,
      state: linked ? { ...linked, status: 'deleted' } : {},
    };
  // The status it had is what a contact that comes back is restored to (push-members.ts).
  const restoreStatus = linked.status === 'archived' ? linked.restoreStatus : linked.status;
  return {
    status: 'ok',
    externalId: record.externalId,
    state: { ...linked, status: 'archived', ...(restoreStatus ? { restoreStatus } : {}) },
  };
}

/**
 * The loser of a merge, once the winner is written: its member is archived (per deleteMode)
 * unless it is the winner's own member: the same address, or the same member (two CRM
 * duplicates linked to one member; the winner may have moved it to a new address just now).
 */
export async function retireLoser(
  merge: Merge,
  winner: Pick<MemberLinkState, 'subscriberHash' | 'memberId'> | null,
  ctx: PushContext,
): Promise<void> {
  if (ctx.settings.deleteMode === 'ignore') return;
  const loser = await locateMember(ctx, String(merge.loserId), merge.loserEmail);
  if (!loser || loser.hash === winner?.subscriberHash) return;
  if (loser.memberId && loser.memberId === winner?.memberId) return;
  await removeMember(ctx, loser.memberId ?? loser.hash);
}
