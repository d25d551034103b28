import type { z } from 'zod';
import { CrmEvent, EventEnvelope } from './envelope.js';
import { isKnownEventType } from './event-types.js';

/** One validation problem, with the dotted path into the event where it was found. */
export interface EventIssue {
  path: string;
  message: string;
}

export type ParsedEvent =
  | { kind: 'event'; event: CrmEvent }
  | { kind: 'unknown_type'; envelope: EventEnvelope }
  | { kind: 'invalid'; eventId: string | null; type: string | null; issues: EventIssue[] };

/** `data.companies[0].id`-style paths: what an operator reads in a dead letter. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function toEventIssues(error: z.ZodError): EventIssue[] {
  return error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}

function pickString(raw: unknown, key: string): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  const value = (raw as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Validates anything that claims to be a CRM event. Never throws: a malformed event becomes an
 * `invalid` result carrying every zod issue, so callers can dead-letter it instead of crashing.
 */
export function parseEvent(raw: unknown): ParsedEvent {
  const envelope = EventEnvelope.safeParse(raw);
  if (!envelope.success) {
    return {
      kind: 'invalid',
      eventId: pickString(raw, 'id'),
      type: pickString(raw, 'type'),
      issues: toEventIssues(envelope.error),
    };
  }
  if (!isKnownEventType(envelope.data.type)) return { kind: 'unknown_type', envelope: envelope.data };
  const event = CrmEvent.safeParse(raw);
  if (!event.success) {
    return {
      kind: 'invalid',
      eventId: envelope.data.id,
      type: envelope.data.type,
      issues: toEventIssues(event.error),
    };
  }
  return { kind: 'event', event: event.data };
}
