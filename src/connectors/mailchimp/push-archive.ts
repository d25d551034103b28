import type { Contact, Merge } from '../../events/snapshots.js';
import type { PushRecord, PushResult } from '../types.js';
import { EMAIL_KEY } from './default-mappings.js';
import { readMemberState } from './link-state.js';
import { locateMember } from './member-locator.js';
import type { PushContext } from './push-context.js';
import { subscriberHash } from './subscriber-hash.js';

/** A 404 on archive or delete means the member is already gone: the goal is reached. */
async function removeMember(ctx: PushContext, hash: string): Promise<void> {
  try {
    if (ctx.settings.deleteMode === 'delete') await ctx.api.deleteMemberPermanently(hash);
    else await ctx.api.archiveMember(hash);
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
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
  await removeMember(ctx, linked?.subscriberHash ?? subscriberHash(String(email)));
  const status = ctx.settings.deleteMode === 'delete' ? 'deleted' : 'archived';
  return { status: 'ok', externalId: record.externalId, state: linked ? { ...linked, status } : {} };
}

/**
 * The loser of a merge, once the winner is written: its member is archived (per deleteMode)
 * unless it is the winner's own member (same address).
 */
export async function retireLoser(merge: Merge, winnerHash: string | null, ctx: PushContext): Promise<void> {
  if (ctx.settings.deleteMode === 'ignore') return;
  const loser = await locateMember(ctx, String(merge.loserId), merge.loserEmail);
  if (!loser || loser.hash === winnerHash) return;
  await removeMember(ctx, loser.hash);
}
