import { PermanentError, RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { EMAIL_KEY } from './default-mappings.js';
import { eventNameFor, eventPropertiesFor, noteTextFor } from './event-name.js';
import { locateMember } from './member-locator.js';
import { checkAudience, type PushContext } from './push-context.js';

/**
 * CRM_ACTIVITY_CREATED: a NOTE becomes a member note, every other type a member event. The link
 * makes a replay a no-op (Mailchimp has no idempotency key for either).
 */
export async function pushActivity(record: PushRecord, ctx: PushContext): Promise<PushResult> {
  if (record.externalId) return { status: 'ok', externalId: record.externalId, state: record.state };
  const { event } = record;
  if (event.type !== 'CRM_ACTIVITY_CREATED')
    return { status: 'skipped', reason: `${event.type} is not an activity` };
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
  const base = { listId: ctx.settings.listId, subscriberHash: member.hash };
  // A linked member is named by its contact_id, which follows it across address changes. A 404
  // for it means it was deleted in Mailchimp, which no retry mends; a 404 for a member found by
  // address alone may be its own sync still on the way (retryable, as classified).
  const ref = member.memberId ?? member.hash;
  const gone = async (error: unknown) => {
    // A deleted audience answers 404 for every member too: that is a config error (pause).
    if (member.memberId && (error as { status?: number }).status === 404) await checkAudience(ctx);
    return member.memberId && (error as { status?: number }).status === 404
      ? new PermanentError(
          `contact ${activity.contactId}'s Mailchimp member (contact_id ${member.memberId}) is no longer in audience ${ctx.settings.listId} (deleted in Mailchimp)`,
          { code: 'MEMBER_GONE', status: 404 },
        )
      : error;
  };

  if (activity.type === 'NOTE') {
    const note = noteTextFor(activity);
    if (note === '') return { status: 'skipped', reason: 'the note is empty' };
    const created = await ctx.api.addNote(ref, note).catch(async (error: unknown) => {
      throw await gone(error);
    });
    return { status: 'ok', externalId: `note:${created.id}`, state: { ...base, noteId: created.id } };
  }

  const name = eventNameFor(activity, ctx.settings.eventPrefix);
  await ctx.api
    .addEvent(ref, {
      name,
      properties: eventPropertiesFor(activity),
      occurred_at: activity.occurredAt,
      is_syncing: !ctx.settings.eventsTriggerAutomations,
    })
    .catch(async (error: unknown) => {
      throw await gone(error);
    });
  return { status: 'ok', externalId: `event:${activity.id}`, state: { ...base, eventName: name } };
}
