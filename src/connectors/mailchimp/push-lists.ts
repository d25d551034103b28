import type { ListMembership } from '../../events/snapshots.js';
import { type ConnectorError, isConnectorError, PermanentError, RetryableError } from '../errors.js';
import { LIST_TARGET_KEY, type PushRecord, type PushResult } from '../types.js';
import { locateMember } from './member-locator.js';
import { type LocatedMember, type PushContext, settle } from './push-context.js';
import type { Member } from './responses.js';
import { runPool } from './run-pool.js';
import { normalizeEmail } from './subscriber-hash.js';

/**
 * CRM_LIST_MEMBER_ADDED/REMOVED for mapped CRM lists: a member tag per list (one call per
 * membership), or a static segment per list (one call per segment and ≤ 500 members, plus a read
 * of each added member the answer leaves out).
 */
export interface ListItem {
  position: number;
  record: PushRecord;
}

const SEGMENT_BATCH_MAX = 500;

// The Mailchimp tag or segment a CRM list maps to: the engine's `payload.$listTarget` (from the
// integration's `mappings.lists`), else the connector's own `settings.lists`; else none, and the
// membership is skipped: the engine passes no target when the integration maps no lists, and
// a tag per CRM list nobody asked for would clutter every member.

export function listTargetOf(
  record: PushRecord,
  membership: ListMembership,
  lists: { crmListId: string; target: string }[],
) {
  const mapped = record.payload[LIST_TARGET_KEY];
  if (typeof mapped === 'string' && mapped.trim() !== '') return mapped.trim();
  return lists.find((l) => l.crmListId === String(membership.list.id))?.target ?? null;
}

interface Resolved {
  position: number;
  record: PushRecord;
  adding: boolean;
  target: string;
  contactId: string;
  member: LocatedMember;
}

export async function pushListMemberships(
  items: readonly ListItem[],
  ctx: PushContext,
): Promise<Map<number, PushResult>> {
  const results = new Map<number, PushResult>();
  const resolved: Resolved[] = [];
  for (const { position, record } of items) {
    const result = await settle(ctx, async () => {
      const { event } = record;
      if (event.type !== 'CRM_LIST_MEMBER_ADDED' && event.type !== 'CRM_LIST_MEMBER_REMOVED') {
        return { status: 'skipped', reason: `${event.type} is not a list membership event` };
      }
      const target = listTargetOf(record, event.data, ctx.settings.lists);
      const list = event.data.list;
      if (!target) {
        return {
          status: 'skipped',
          reason: `CRM list ${list.id}${list.name ? ` (${list.name})` : ''} is not mapped to a Mailchimp ${ctx.settings.listTarget} (map it in mappings.lists or settings.lists)`,
        };
      }
      const contactId = String(event.data.contact.id);
      const member = await locateMember(ctx, contactId, event.data.contact.email);
      if (!member) throw notSynced(contactId);
      resolved.push({
        position,
        record,
        adding: event.type === 'CRM_LIST_MEMBER_ADDED',
        target,
        contactId,
        member,
      });
      return { status: 'ok', externalId: null };
    });
    if (result.status !== 'ok') results.set(position, result);
  }

  if (ctx.settings.listTarget === 'tag') {
    await runPool(resolved, async (item) => {
      results.set(
        item.position,
        await settle(ctx, async () => {
          // The contact_id when known: it follows the member across address changes.
          await ctx.api.updateTags(item.member.memberId ?? item.member.hash, [
            { name: item.target, status: item.adding ? 'active' : 'inactive' },
          ]);
          return done(ctx, item);
        }),
      );
    });
    return results;
  }

  const bySegment = new Map<string, Resolved[]>();
  for (const item of resolved) {
    const key = item.target.toLowerCase();
    bySegment.set(key, [...(bySegment.get(key) ?? []), item]);
  }
  for (const group of bySegment.values()) {
    for (let start = 0; start < group.length; start += SEGMENT_BATCH_MAX) {
      const chunk = group.slice(start, start + SEGMENT_BATCH_MAX);
      await settleSegmentChunk(chunk, ctx, results);
    }
  }
  return results;
}

async function settleSegmentChunk(chunk: Resolved[], ctx: PushContext, results: Map<number, PushResult>) {
  const withEmail = chunk.filter((item) => item.member.email);
  for (const item of chunk) {
    if (!item.member.email) results.set(item.position, { status: 'error', error: notSynced(item.contactId) });
  }
  const outcome = await settle(ctx, async () => {
    const target = withEmail[0]?.target ?? '';
    const update = async () =>
      ctx.api.updateSegmentMembers(await ctx.segments.idFor(target, ctx.api), {
        members_to_add: withEmail.filter((i) => i.adding).map((i) => i.member.email as string),
        members_to_remove: withEmail.filter((i) => !i.adding).map((i) => i.member.email as string),
      });
    let answer: Awaited<ReturnType<typeof update>>;
    try {
      answer = await update();
    } catch (error) {
      // The segment was read earlier and deleted in Mailchimp since (marketing removing the tag):
      // its 404 would read as a missing audience and pause the integration. Find or make it
      // again, once; an audience that is really gone fails the read the same way.
      if (!isConnectorError(error) || error.status !== 404) throw error;
      ctx.segments.forget();
      answer = await update();
    }
    const errors = new Map<string, string>();
    for (const e of answer.errors)
      for (const email of e.email_addresses) errors.set(normalizeEmail(email), e.error);
    const added = new Set(answer.members_added.map((m) => normalizeEmail(m.email_address)));
    const unconfirmed: Resolved[] = [];
    for (const item of withEmail) {
      const email = normalizeEmail(item.member.email as string);
      const error = errors.get(email);
      if (error !== undefined) results.set(item.position, { status: 'error', error: segmentError(error) });
      // A removal that changed nothing is done all the same: the member is not in the segment.
      else if (!item.adding || added.has(email)) results.set(item.position, done(ctx, item));
      else unconfirmed.push(item);
    }
    // Mailchimp leaves out of `members_added`, without an error, both an address already in the
    // segment (a replay) and one that is not in the audience ("Any emails provided that are not
    // present on the list will be ignored"): only the member can tell which.
    await runPool(unconfirmed, async (item) => {
      results.set(item.position, await settle(ctx, () => confirmAdded(ctx, item)));
    });
    return { status: 'ok', externalId: null };
  });
  if (outcome.status === 'error') for (const item of withEmail) results.set(item.position, outcome);
}

/** Done when the member is in the audience and carries the segment (a static segment is a tag). */
async function confirmAdded(ctx: PushContext, item: Resolved): Promise<PushResult> {
  let member: Member;
  try {
    member = await ctx.api.getMember(item.member.memberId ?? item.member.hash);
  } catch (error) {
    if (isConnectorError(error) && error.status === 404) throw notSynced(item.contactId);
    throw error;
  }
  if (member.status === 'archived') throw notSynced(item.contactId);
  const key = item.target.toLowerCase();
  if (member.tags?.some((t) => t.name.toLowerCase() === key)) return done(ctx, item);
  throw new RetryableError(
    `Mailchimp did not add member ${item.member.hash} to segment "${item.target}" and gave no reason`,
    { code: 'SEGMENT_ADD_UNCONFIRMED' },
  );
}

function done(ctx: PushContext, item: Resolved): PushResult {
  return {
    status: 'ok',
    externalId: `${ctx.settings.listTarget}:${item.target}:${item.member.memberId ?? item.member.hash}`,
    state: {
      listId: ctx.settings.listId,
      target: item.target,
      mode: ctx.settings.listTarget,
      subscriberHash: item.member.hash,
      active: item.adding,
    },
  };
}

function notSynced(contactId: string): ConnectorError {
  return new RetryableError(
    `contact ${contactId} has no Mailchimp member yet (its own sync may still be on the way)`,
    { code: 'CONTACT_NOT_SYNCED' },
  );
}

function segmentError(text: string): ConnectorError {
  return /not (a )?(list )?member|not subscribed|does not exist/i.test(text)
    ? new RetryableError(`Mailchimp segment update: ${text}`, { code: 'CONTACT_NOT_SYNCED' })
    : new PermanentError(`Mailchimp segment update: ${text}`, { code: 'SEGMENT_MEMBER_REJECTED' });
}
