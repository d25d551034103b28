import type { Activity } from '../../events/snapshots.js';
import type { EngagementKind } from './association-types.js';

/**
 * A CRM activity as HubSpot engagement properties
 * (https://developers.hubspot.com/docs/api/crm/engagements). `hs_timestamp` is required on every
 * engagement; on a task it is the due date. Values come from the activity's `content` and common
 * `properties` (title/subject, status, priority, direction, duration, start/end, due); a mapping
 * for activities overrides any of them.
 */
const NOTE_BODY_MAX = 65_536;

type Props = Record<string, string>;
type Builder = (activity: Activity, read: (...keys: string[]) => string | undefined) => Props;

const CALL_STATUS = new Set([
  'BUSY',
  'CALLING_CRM_USER',
  'CANCELED',
  'COMPLETED',
  'CONNECTING',
  'FAILED',
  'IN_PROGRESS',
  'NO_ANSWER',
  'QUEUED',
  'RINGING',
]);
const MEETING_OUTCOME = new Set(['SCHEDULED', 'COMPLETED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED']);
const TASK_PRIORITY = new Set(['LOW', 'MEDIUM', 'HIGH']);
const TASK_TYPE = new Set(['EMAIL', 'CALL', 'TODO']);

const BUILDERS: Record<EngagementKind, Builder> = {
  NOTE: (a) => ({ hs_note_body: (a.content ?? '').slice(0, NOTE_BODY_MAX) }),
  CALL: (a, read) =>
    compact({
      hs_call_title: read('title', 'subject'),
      hs_call_body: a.content ?? undefined,
      hs_call_status: oneOf(read('status'), CALL_STATUS),
      hs_call_direction: oneOf(read('direction'), new Set(['INBOUND', 'OUTBOUND'])),
      hs_call_duration: durationMs(read('durationMs'), read('durationSeconds', 'duration')),
    }),
  MEETING: (a, read) =>
    compact({
      hs_meeting_title: read('title', 'subject'),
      hs_meeting_body: a.content ?? undefined,
      hs_meeting_start_time: read('startTime', 'startsAt') ?? a.occurredAt,
      hs_meeting_end_time: read('endTime', 'endsAt'),
      hs_meeting_outcome: oneOf(read('outcome', 'status'), MEETING_OUTCOME),
    }),
  EMAIL: (a, read) =>
    compact({
      hs_email_subject: read('subject', 'title'),
      hs_email_text: a.content ?? undefined,
      hs_email_direction: emailDirection(read('direction')),
      hs_email_status: oneOf(read('status'), new Set(['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT'])),
    }),
  TASK: (a, read) =>
    compact({
      hs_task_subject: read('subject', 'title') ?? firstLine(a.content) ?? 'Task',
      hs_task_body: a.content ?? undefined,
      hs_task_status: /^(completed?|done|closed)$/i.test(read('status') ?? '') ? 'COMPLETED' : 'NOT_STARTED',
      hs_task_priority: oneOf(read('priority'), TASK_PRIORITY),
      hs_task_type: oneOf(read('taskType', 'kind'), TASK_TYPE) ?? 'TODO',
    }),
};

export function engagementProperties(kind: EngagementKind, activity: Activity): Props {
  const read = (...keys: string[]) => {
    for (const key of keys) {
      const value = activity.properties[key];
      if (value !== undefined && value !== null && value !== '') return String(value);
    }
    return undefined;
  };
  const due = kind === 'TASK' ? read('dueAt', 'dueDate') : undefined;
  return { hs_timestamp: due ?? activity.occurredAt, ...BUILDERS[kind](activity, read) };
}

function compact(props: Record<string, string | undefined>): Props {
  return Object.fromEntries(Object.entries(props).filter((e): e is [string, string] => e[1] !== undefined));
}

function oneOf(value: string | undefined, allowed: Set<string>): string | undefined {
  const upper = value?.toUpperCase().replace(/[\s-]+/g, '_');
  return upper && allowed.has(upper) ? upper : undefined;
}

function durationMs(ms: string | undefined, seconds: string | undefined): string | undefined {
  if (ms && Number.isFinite(Number(ms))) return String(Math.round(Number(ms)));
  if (seconds && Number.isFinite(Number(seconds))) return String(Math.round(Number(seconds) * 1000));
  return undefined;
}

/** HubSpot names directions by email kind: EMAIL (sent), INCOMING_EMAIL, FORWARDED_EMAIL. */
function emailDirection(direction: string | undefined): string {
  const d = direction?.toUpperCase();
  if (d === 'INBOUND' || d === 'INCOMING' || d === 'INCOMING_EMAIL') return 'INCOMING_EMAIL';
  if (d === 'FORWARDED' || d === 'FORWARDED_EMAIL') return 'FORWARDED_EMAIL';
  return 'EMAIL';
}

function firstLine(text: string | null | undefined): string | undefined {
  const line = text?.split('\n')[0]?.trim();
  return line ? line.slice(0, 200) : undefined;
}
