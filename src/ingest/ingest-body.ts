import { z } from 'zod';
import { type EventIssue, toEventIssues } from '../events/parse-event.js';

const NOT_AN_EVENT = 'expected one event (a JSON object), an array of events or { "events": [...] }';

const Batch = z.object({
  events: z
    .array(z.unknown(), { error: 'must be an array of events' })
    .min(1, 'must hold at least one event'),
});
const SingleEvent = z.record(z.string(), z.unknown(), { error: NOT_AN_EVENT });
const BareArray = z.array(z.unknown()).min(1, 'must hold at least one event');

export type IngestBody =
  | { ok: true; events: unknown[]; single: boolean }
  | { ok: false; issues: EventIssue[] };

/**
 * Tells apart the three shapes `POST /v1/events` and `crm-sync publish FILE` accept. Only the
 * shape is checked here; each event is validated on its own later, so that one malformed event
 * does not cost the valid ones around it.
 */
export function readIngestBody(body: unknown): IngestBody {
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (isObject && 'events' in body) {
    const batch = Batch.safeParse(body);
    return batch.success
      ? { ok: true, events: batch.data.events, single: false }
      : { ok: false, issues: toEventIssues(batch.error) };
  }
  if (Array.isArray(body)) {
    const list = BareArray.safeParse(body);
    return list.success
      ? { ok: true, events: list.data, single: false }
      : { ok: false, issues: toEventIssues(list.error) };
  }
  const single = SingleEvent.safeParse(body);
  return single.success
    ? { ok: true, events: [single.data], single: true }
    : { ok: false, issues: toEventIssues(single.error) };
}
