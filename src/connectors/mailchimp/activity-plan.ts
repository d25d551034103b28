import { PermanentError, RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { type ActivityTarget, type FoundActivity, noteWindowStart } from './activity-lookup.js';
import { EMAIL_KEY } from './default-mappings.js';
import { eventNameFor, eventPropertiesFor, noteTextFor } from './event-name.js';
import { locateMember } from './member-locator.js';
import { checkAudience, type LocatedMember, type PushContext } from './push-context.js';

/**
 * What a CRM_ACTIVITY_CREATED becomes at Mailchimp, the same for direct calls
 * (push-activities.ts) and batch runs (push-activities-bulk.ts): a NOTE a member note, every
 * other type a member event, at the contact's member; the result a write gives; what a failed
 * write means. The link makes a replay a no-op; a retry looks first (activity-lookup.ts).
 */
export interface ActivityWrite {
  record: PushRecord;
  activityId: string;
  contactId: string;
  member: LocatedMember;
  /**
   * The member's path segment. A linked member is named by its contact_id, which follows it
   * across address changes; one found by address alone by its hash.
   */
  ref: string;
  send:
    | { kind: 'note'; text: string }
    | {
        kind: 'event';
        body: { name: string; properties: Record<string, string>; occurred_at: string; is_syncing: boolean };
      };
  /** How an earlier attempt's note or event is recognised. */
  target: ActivityTarget;
}

export type ActivityPlan = { kind: 'done'; result: PushResult } | { kind: 'write'; write: ActivityWrite };

/** Throws CONTACT_NOT_SYNCED (retryable) when the contact has no member to write to yet. */
export async function planActivity(record: PushRecord, ctx: PushContext): Promise<ActivityPlan> {
  if (record.externalId) {
    return { kind: 'done', result: { status: 'ok', externalId: record.externalId, state: record.state } };
  }
  const { event } = record;
  if (event.type !== 'CRM_ACTIVITY_CREATED') {
    return { kind: 'done', result: { status: 'skipped', reason: `${event.type} is not an activity` } };
  }
  const activity = event.data;
  const email = record.payload[EMAIL_KEY] ?? activity.properties.email;
  const member = await locateMember(
    ctx,
    String(activity.contactId),
    typeof email === 'string' ? email : null,
  );
  if (!member) {
    throw new RetryableError(
      `contact ${activity.contactId} has no Mailchimp member yet (its own sync may still be on the way)`,
      { code: 'CONTACT_NOT_SYNCED' },
    );
  }
  const ref = member.memberId ?? member.hash;
  const ids = { activityId: String(activity.id), contactId: String(activity.contactId) };
  if (activity.type === 'NOTE') {
    const text = noteTextFor(activity);
    if (text === '') return { kind: 'done', result: { status: 'skipped', reason: 'the note is empty' } };
    const target = { kind: 'note' as const, text, since: noteWindowStart(event.occurredAt) };
    return { kind: 'write', write: { record, ...ids, member, ref, send: { kind: 'note', text }, target } };
  }
  const name = eventNameFor(activity, ctx.settings.eventPrefix);
  const body = {
    name,
    properties: eventPropertiesFor(activity),
    occurred_at: activity.occurredAt,
    is_syncing: !ctx.settings.eventsTriggerAutomations,
  };
  const target = { kind: 'event' as const, name, activityId: ids.activityId };
  return { kind: 'write', write: { record, ...ids, member, ref, send: { kind: 'event', body }, target } };
}

/** The result of a write that was made, or found made by an earlier attempt. */
export function addedResult(write: ActivityWrite, added: FoundActivity, ctx: PushContext): PushResult {
  const base = { listId: ctx.settings.listId, subscriberHash: write.member.hash };
  if (added.kind === 'note') {
    return { status: 'ok', externalId: `note:${added.id}`, state: { ...base, noteId: added.id } };
  }
  const name = write.send.kind === 'event' ? write.send.body.name : '';
  return { status: 'ok', externalId: `event:${write.activityId}`, state: { ...base, eventName: name } };
}

/**
 * What a failed read or write of the activity's member means. A 404 for a linked member: it was
 * deleted in Mailchimp, which no retry mends (MEMBER_GONE), unless the audience itself is gone
 * (it answers 404 for every member too), which `checkAudience` throws as a config error. A 404
 * for a member found by address alone may be its own sync still on the way: retryable, as
 * classified. Anything else is the error as it came.
 */
export async function activityFailure(
  ctx: PushContext,
  write: ActivityWrite,
  error: unknown,
): Promise<unknown> {
  const { memberId } = write.member;
  if (!memberId || (error as { status?: number }).status !== 404) return error;
  await checkAudience(ctx);
  return new PermanentError(
    `contact ${write.contactId}'s Mailchimp member (contact_id ${memberId}) is no longer in audience ${ctx.settings.listId} (deleted in Mailchimp)`,
    { code: 'MEMBER_GONE', status: 404 },
  );
}
