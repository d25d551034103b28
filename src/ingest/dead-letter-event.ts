import { createHash } from 'node:crypto';
import type { EventIssue } from '../events/parse-event.js';
import { type Queryable, recordFailure } from '../store/failures-repo.js';

/** A malformed event as `parseEvent` reported it. */
export interface InvalidEvent {
  eventId: string | null;
  type: string | null;
  issues: EventIssue[];
}

const MAX_SUMMARY = 500;

/**
 * One line naming every path that is wrong, for `crm-sync failures list` and API answers:
 * `invalid event evt_1 (CRM_CONTACT_CREATED): occurredAt: Invalid ISO datetime; data.id: Required`.
 */
export function summarizeInvalidEvent(invalid: InvalidEvent): string {
  const what = [
    'invalid event',
    invalid.eventId ?? '(no id)',
    invalid.type === null ? '' : `(${invalid.type})`,
  ]
    .filter(Boolean)
    .join(' ');
  const parts = invalid.issues.map((i) => `${i.path}: ${i.message}`);
  let line = `${what}: ${parts.join('; ')}`;
  if (line.length > MAX_SUMMARY) line = `${line.slice(0, MAX_SUMMARY - 16)}… (${parts.length} issues)`;
  return line;
}

/**
 * The failure key of a malformed event: its id when it has one, so a re-sent copy updates the
 * same dead letter; else the caller's fallback (the job id, the outbox row), else a digest of the
 * payload so identical garbage is one row, not thousands.
 */
export function invalidEventKey(invalid: InvalidEvent, raw: unknown, fallback?: string): string {
  if (invalid.eventId !== null) return `ingest:${invalid.eventId}`;
  if (fallback !== undefined) return `ingest:${fallback}`;
  const digest = createHash('sha256')
    .update(JSON.stringify(raw) ?? String(raw))
    .digest('hex')
    .slice(0, 32);
  return `ingest:sha256:${digest}`;
}

/** Stores a malformed event in the dead-letter store (stage `ingest`); returns the failure id. */
export function deadLetterInvalidEvent(
  db: Queryable,
  raw: unknown,
  invalid: InvalidEvent,
  fallbackKey?: string,
): Promise<number> {
  return recordFailure(db, {
    failureKey: invalidEventKey(invalid, raw, fallbackKey),
    stage: 'ingest',
    eventId: invalid.eventId,
    eventType: invalid.type,
    event: raw,
    errorKind: 'validation',
    errorCode: 'invalid_event',
    errorMessage: summarizeInvalidEvent(invalid),
    errorDetails: invalid.issues,
  });
}
