import { RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { EMAIL_KEY } from './default-mappings.js';
import { eventNameFor, eventPropertiesFor, noteTextFor } from './event-name.js';
import { locateMember } from './member-locator.js';
import type { PushContext } from './push-context.js';

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

  if (activity.type === 'NOTE') {
    const note = noteTextFor(activity);
    if (note === '') return { status: 'skipped', reason: 'the note is empty' };
    const created = await ctx.api.addNote(member.hash, note);
    return { status: 'ok', externalId: `note:${created.id}`, state: { ...base, noteId: created.id } };
  }

  const name = eventNameFor(activity, ctx.settings.eventPrefix);
  await ctx.api.addEvent(member.hash, {
    name,
    properties: eventPropertiesFor(activity),
    occurred_at: activity.occurredAt,
    is_syncing: !ctx.settings.eventsTriggerAutomations,
  });
  return { status: 'ok', externalId: `event:${activity.id}`, state: { ...base, eventName: name } };
}
