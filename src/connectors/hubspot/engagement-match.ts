import { sameText } from '../same-text.js';
import type { ENGAGEMENTS, EngagementKind } from './association-types.js';

/**
 * Whether an engagement HubSpot has is the one an earlier attempt of this activity created, its
 * answer lost (`PushRecord.retried`). HubSpot keeps no idempotency key and no trace id of a
 * create, so the engagement is recognised by what the create set. A match is:
 *
 * - the same type (the contact's engagements are listed one type at a time) and the same
 *   `hs_timestamp` as an instant (HubSpot answers dates in its own ISO form, e.g. without the
 *   milliseconds that were sent, and takes epoch milliseconds too);
 * - the same text: the body, and the title or subject where the type has one, compared after
 *   line breaks and surrounding whitespace are set aside (rich-text fields may come back
 *   normalised; unverified), absent and empty being the same;
 * - created no earlier than the CRM event, less a margin for the CRM's clock running ahead of
 *   HubSpot's: every attempt was sent after the event.
 *
 * Status, direction, duration, priority and outcome are not compared: people change them in
 * HubSpot after the create (a task marked done), while the time and text identify the activity.
 *
 * The trade-off: two CRM activities of one contact with the same type, time and text are taken
 * as one when the second is retried after the first's engagement exists: the second is linked to
 * it and never created. Within one push each engagement is taken once (engagement-lookup.ts), so
 * only an identical twin synced in an earlier push can be taken. Nothing else at HubSpot tells
 * the two apart short of a custom property carrying the CRM's activity id, which would need
 * schema write scopes on every engagement type. What is lost is a second, identical engagement;
 * what the look prevents is a duplicate of every activity whose answer was lost.
 */

/** The v3 object type of an engagement: notes, calls, meetings, emails, tasks. */
export type EngagementType = (typeof ENGAGEMENTS)[EngagementKind]['objectType'];

/** The properties besides `hs_timestamp` that identify an engagement of each type (engagement-properties.ts sets them). */
export const IDENTIFYING_TEXT: Record<EngagementType, readonly string[]> = {
  notes: ['hs_note_body'],
  calls: ['hs_call_title', 'hs_call_body'],
  meetings: ['hs_meeting_title', 'hs_meeting_body'],
  emails: ['hs_email_subject', 'hs_email_text'],
  tasks: ['hs_task_subject', 'hs_task_body'],
};

/** What a batch read asks for: the properties a match compares. */
export const matchProperties = (objectType: EngagementType): string[] => [
  'hs_timestamp',
  ...IDENTIFYING_TEXT[objectType],
];

/** How far before the CRM event an engagement still counts as possibly this activity's. */
export const CLOCK_MARGIN_MS = 15 * 60_000;

export interface EngagementTarget {
  objectType: EngagementType;
  /** The properties the create sends (the activity's, with the mapping's overrides). */
  properties: Record<string, string>;
  /** Epoch ms: an engagement created before it is not this activity's (`windowStart`). */
  since: number;
}

export interface ReadEngagement {
  id: string;
  /** Epoch ms; NaN when HubSpot did not say. */
  createdAt: number;
  properties: Record<string, string | null>;
}

export const windowStart = (eventOccurredAt: string) => Date.parse(eventOccurredAt) - CLOCK_MARGIN_MS;

export function isSameEngagement(target: EngagementTarget, engagement: ReadEngagement): boolean {
  // An unreadable creation date does not rule an engagement out: better taken than created twice.
  if (engagement.createdAt < target.since) return false;
  if (instant(target.properties.hs_timestamp) !== instant(engagement.properties.hs_timestamp)) return false;
  return IDENTIFYING_TEXT[target.objectType].every((name) =>
    sameText(target.properties[name], engagement.properties[name]),
  );
}

function instant(value: string | null | undefined): number | string {
  if (!value) return '';
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : ms;
}
