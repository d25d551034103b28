import { contactOf } from '../../events/contact-of.js';
import { RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { readMemberState } from './link-state.js';
import { desiredTags } from './member-tags.js';
import { pushActivities } from './push-activities.js';
import { archiveContact, retireLoser } from './push-archive.js';
import { type PushContext, settle } from './push-context.js';
import { type ListItem, pushListMemberships } from './push-lists.js';
import { type MemberWrite, writeMembers } from './push-members.js';
import { applyTagEvent } from './push-tags.js';
import { applyTagEventsInBulk, eventsNeedingRequests, type TagChain } from './push-tags-bulk.js';
import { runPool } from './run-pool.js';

type Step = () => Promise<void>;

/**
 * One push: members first (creates in bulk, then updates), so that the tags, archives, merges,
 * list memberships and activities after them find the members written in this very batch.
 * Only the shared first steps (merge field catalog, batch subscribe) throw: before them nothing
 * irreversible has been sent, so the engine may retry the whole batch.
 */
export async function pushBatch(batch: readonly PushRecord[], ctx: PushContext): Promise<PushResult[]> {
  const results: (PushResult | undefined)[] = new Array(batch.length);
  const writes: { position: number; write: MemberWrite }[] = [];
  const written = new Map<string, number>();
  /** Tag events per contact, applied in order after the member writes. */
  const tagChains = new Map<string, number[]>();
  const later: Step[] = [];
  const lists: ListItem[] = [];
  const activities: number[] = [];

  // Where each contact's full write (update or merge) sits: tag events before it are already in
  // its snapshot, the ones after it are newer and applied on top.
  const fullWriteAt = new Map<string, number>();
  batch.forEach((r, position) => {
    if (r.operation === 'upsert' || r.operation === 'merge') fullWriteAt.set(r.entityId, position);
  });
  const covered: number[] = [];

  for (const [position, record] of batch.entries()) {
    const contact = contactOf(record.event);
    const tags = ctx.settings.syncTags && contact ? desiredTags(record.event, contact.tags) : null;
    const write = () => {
      written.set(record.entityId, position);
      writes.push({ position, write: { record, contact, tags } });
    };
    switch (record.operation) {
      case 'upsert':
      case 'merge':
        write();
        break;
      case 'tag_add':
      case 'tag_remove': {
        if (!ctx.settings.syncTags) {
          results[position] = { status: 'skipped', reason: 'syncTags is off for this integration' };
          break;
        }
        const fullWrite = fullWriteAt.get(record.entityId);
        if (fullWrite !== undefined && fullWrite > position) {
          covered.push(position);
          break;
        }
        const linked = record.externalId ? readMemberState(record.state, ctx.settings.listId) : null;
        // A contact with no member yet is written with its tags; later tag events build on it.
        if (!linked && fullWrite === undefined && !written.has(record.entityId)) write();
        else tagChains.set(record.entityId, [...(tagChains.get(record.entityId) ?? []), position]);
        break;
      }
      case 'archive':
        later.push(async () => {
          results[position] = await settle(ctx, () => archiveContact(record, contact, ctx));
        });
        break;
      case 'list_add':
      case 'list_remove':
        lists.push({ position, record });
        break;
      case 'activity':
        activities.push(position);
        break;
      default:
        results[position] = {
          status: 'skipped',
          reason: `Mailchimp has no ${record.entityType} records (${record.operation} is not supported)`,
        };
    }
  }

  const outcomes = await writeMembers(
    writes.map((w) => w.write),
    ctx,
  );
  writes.forEach(({ position, write }, i) => {
    const result = outcomes[i] as PushResult;
    results[position] = result;
    const { event } = write.record;
    if (event.type === 'CRM_CONTACT_MERGED' && result.status === 'ok') {
      const winner = ctx.states.get(write.record.entityId) ?? null;
      later.push(async () => {
        results[position] = await settle(ctx, async () => {
          await retireLoser(event.data, winner, ctx);
          return { ...result, mergedFrom: { entityId: String(event.data.loserId) } };
        });
      });
    }
  });

  for (const position of covered) {
    const entityId = (batch[position] as PushRecord).entityId;
    results[position] = results[fullWriteAt.get(entityId) as number];
  }

  const bulk = bulkTagChains(batch, tagChains, ctx);
  if (bulk.length > 0) {
    later.push(async () => {
      for (const [position, result] of await applyTagEventsInBulk(bulk, ctx)) results[position] = result;
    });
  }
  const inBulk = new Set(bulk.map((chain) => chain.entityId));
  for (const [entityId, positions] of tagChains) {
    if (inBulk.has(entityId)) continue;
    later.push(async () => {
      for (const position of positions) {
        const record = batch[position] as PushRecord;
        results[position] = await settle(ctx, async () => {
          const state = ctx.states.get(entityId) ?? readMemberState(record.state, ctx.settings.listId);
          if (state) return applyTagEvent(record, state, ctx);
          // The contact's write in this batch did not produce a member: its result says why.
          const first = written.get(entityId);
          const outcome = first === undefined ? undefined : results[first];
          if (outcome && outcome.status !== 'ok') return outcome;
          throw new RetryableError(`contact ${entityId} has no Mailchimp member yet`, {
            code: 'CONTACT_NOT_SYNCED',
          });
        });
      }
    });
  }

  await runPool(later, (step) => step());
  for (const [position, result] of await pushListMemberships(lists, ctx)) results[position] = result;
  const activityRecords = activities.map((position) => ({ position, record: batch[position] as PushRecord }));
  for (const [position, result] of await pushActivities(activityRecords, ctx)) results[position] = result;

  const final = results.map((r, position): PushResult => {
    if (!r) return { status: 'skipped', reason: 'the record was not handled (a connector bug)' };
    // Several records of one contact: each reports the contact's final state, in any order.
    const record = batch[position] as PushRecord;
    const state = record.entityType === 'contact' ? ctx.states.get(record.entityId) : undefined;
    return r.status === 'ok' && state && r.state?.status !== 'archived' && r.state?.status !== 'deleted'
      ? { ...r, state }
      : r;
  });
  // A rejected key or a missing audience concerns the whole batch: say so once.
  if (ctx.fatal && final.every((r) => r.status === 'error')) throw ctx.fatal;
  return final;
}

/**
 * The linked contacts' tag events, when at least `batchUpdatesFrom` of them need a request: then
 * they go as batch runs (push-tags-bulk.ts) instead of one or two calls each. Below that, or with
 * batch runs off (0), none do.
 */
function bulkTagChains(
  batch: readonly PushRecord[],
  tagChains: ReadonlyMap<string, number[]>,
  ctx: PushContext,
): TagChain[] {
  const { batchUpdatesFrom, listId } = ctx.settings;
  if (batchUpdatesFrom === 0 || ctx.fatal) return [];
  const chains: TagChain[] = [];
  for (const [entityId, positions] of tagChains) {
    const records = positions.map((position) => ({ position, record: batch[position] as PushRecord }));
    const first = records[0]?.record;
    const linked = ctx.states.get(entityId) ?? (first ? readMemberState(first.state, listId) : null);
    if (linked) chains.push({ entityId, linked, records });
  }
  return eventsNeedingRequests(chains) >= batchUpdatesFrom ? chains : [];
}
