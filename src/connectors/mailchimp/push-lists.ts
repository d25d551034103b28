import type { ListMembership } from '../../events/snapshots.js';
import { type ConnectorError, PermanentError, RetryableError } from '../errors.js';
import { LIST_TARGET_KEY, type PushRecord, type PushResult } from '../types.js';
import { locateMember } from './member-locator.js';
import { type LocatedMember, type PushContext, settle } from './push-context.js';
import { runPool } from './run-pool.js';
import { normalizeEmail } from './subscriber-hash.js';

/**
 * CRM_LIST_MEMBER_ADDED/REMOVED for mapped CRM lists: a member tag per list (one call per
 * membership), or a static segment per list (one call per segment and ≤ 500 members).
 */
export interface ListItem {
  position: number;
  record: PushRecord;
}

const SEGMENT_BATCH_MAX = 500;

// The Mailchimp tag or segment a CRM list maps to: the engine's `payload.$listTarget` (from the
// integration's `mappings.lists`), else the connector's own `settings.lists`.

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
          reason: `CRM list ${list.id}${list.name ? ` (${list.name})` : ''} is not mapped to a Mailchimp ${ctx.settings.listTarget}`,
        };
      }
      const member = await locateMember(ctx, String(event.data.contact.id), event.data.contact.email);
      if (!member) throw notSynced(String(event.data.contact.id));
      resolved.push({ position, record, adding: event.type === 'CRM_LIST_MEMBER_ADDED', target, member });
      return { status: 'ok', externalId: null };
    });
    if (result.status !== 'ok') results.set(position, result);
  }

  if (ctx.settings.listTarget === 'tag') {
    await runPool(resolved, async (item) => {
      results.set(
        item.position,
        await settle(ctx, async () => {
          await ctx.api.updateTags(item.member.hash, [
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
    if (!item.member.email)
      results.set(item.position, { status: 'error', error: notSynced(item.record.entityId) });
  }
  const outcome = await settle(ctx, async () => {
    const segmentId = await ctx.segments.idFor(withEmail[0]?.target ?? '', ctx.api);
    const answer = await ctx.api.updateSegmentMembers(segmentId, {
      members_to_add: withEmail.filter((i) => i.adding).map((i) => i.member.email as string),
      members_to_remove: withEmail.filter((i) => !i.adding).map((i) => i.member.email as string),
    });
    const errors = new Map<string, string>();
    for (const e of answer.errors)
      for (const email of e.email_addresses) errors.set(normalizeEmail(email), e.error);
    for (const item of withEmail) {
      const error = errors.get(normalizeEmail(item.member.email as string));
      results.set(
        item.position,
        error === undefined ? done(ctx, item) : { status: 'error', error: segmentError(error) },
      );
    }
    return { status: 'ok', externalId: null };
  });
  if (outcome.status === 'error') for (const item of withEmail) results.set(item.position, outcome);
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
