import type { PushRecord, PushResult } from '../types.js';
import { contactOf } from './contact-of.js';
import { readMemberState } from './link-state.js';
import { desiredTags } from './member-tags.js';
import { pushActivity } from './push-activities.js';
import { archiveContact, retireLoser } from './push-archive.js';
import { type PushContext, settle } from './push-context.js';
import { type ListItem, pushListMemberships } from './push-lists.js';
import { type MemberWrite, writeMembers } from './push-members.js';
import { applyTagEvent } from './push-tags.js';
import { runPool } from './run-pool.js';

/**
 * One push: members first (creates in bulk, then updates), so that the tags, archives, merges,
 * list memberships and activities after them find the members written in this very batch.
 * Only the shared first steps (merge field catalog, batch subscribe) throw: before them nothing
 * irreversible has been sent, so the engine may retry the whole batch.
 */
export async function pushBatch(batch: readonly PushRecord[], ctx: PushContext): Promise<PushResult[]> {
  const results: (PushResult | undefined)[] = new Array(batch.length);
  const writes: { position: number; write: MemberWrite }[] = [];
  const later: { position: number; run: () => Promise<PushResult> }[] = [];
  const lists: ListItem[] = [];
  const activities: number[] = [];

  batch.forEach((record, position) => {
    const contact = contactOf(record.event);
    const tagsFor = () => (ctx.settings.syncTags && contact ? desiredTags(record.event, contact.tags) : null);
    const linked = record.externalId ? readMemberState(record.state, ctx.settings.listId) : null;
    switch (record.operation) {
      case 'upsert':
      case 'merge':
        writes.push({ position, write: { record, contact, tags: tagsFor() } });
        return;
      case 'tag_add':
      case 'tag_remove':
        if (!ctx.settings.syncTags) {
          results[position] = { status: 'skipped', reason: 'syncTags is off for this integration' };
        } else if (linked) {
          later.push({ position, run: () => applyTagEvent(record, linked, ctx) });
        } else {
          writes.push({ position, write: { record, contact, tags: tagsFor() } });
        }
        return;
      case 'archive':
        later.push({ position, run: () => archiveContact(record, contact, ctx) });
        return;
      case 'list_add':
      case 'list_remove':
        lists.push({ position, record });
        return;
      case 'activity':
        activities.push(position);
        return;
      default:
        results[position] = {
          status: 'skipped',
          reason: `Mailchimp has no ${record.entityType} records (${record.operation} is not supported)`,
        };
    }
  });

  const written = await writeMembers(
    writes.map((w) => w.write),
    ctx,
  );
  writes.forEach(({ position, write }, i) => {
    const result = written[i] as PushResult;
    results[position] = result;
    if (
      write.record.operation === 'merge' &&
      result.status === 'ok' &&
      write.record.event.type === 'CRM_CONTACT_MERGED'
    ) {
      const merge = write.record.event.data;
      const winnerHash = (result.state?.subscriberHash as string | undefined) ?? null;
      later.push({
        position,
        run: async () => {
          await retireLoser(merge, winnerHash, ctx);
          return { ...result, mergedFrom: { entityId: String(merge.loserId) } };
        },
      });
    }
  });

  await runPool(later, async ({ position, run }) => {
    results[position] = await settle(ctx, run);
  });
  for (const [position, result] of await pushListMemberships(lists, ctx)) results[position] = result;
  await runPool(activities, async (position) => {
    results[position] = await settle(ctx, () => pushActivity(batch[position] as PushRecord, ctx));
  });

  const final = results.map(
    (r): PushResult => r ?? { status: 'skipped', reason: 'the record was not handled (a connector bug)' },
  );
  // A rejected key or a missing audience concerns the whole batch: say so once.
  if (ctx.fatal && final.every((r) => r.status === 'error')) throw ctx.fatal;
  return final;
}
