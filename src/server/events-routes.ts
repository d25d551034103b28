import { readIngestBody } from '../ingest/ingest-body.js';
import { type IngestResult, ingestEvents } from '../ingest/ingest-events.js';
import { HttpError } from './http-error.js';
import type { AdminRoutes } from './route-options.js';

/** The most events one request may carry (CONTRACT §1). */
export const MAX_EVENTS_PER_REQUEST = 500;

// 500 events of a few KB each, with room for large snapshots (Segment caps one event at 32 KB).
const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * `POST /v1/events`: one event, an array, or `{ "events": [...] }` (up to 500). Answers 202 with
 * a result per event; malformed events are dead-lettered and reported, the valid ones still go on
 * the queue. A lone malformed event answers 400 (it is also dead-lettered).
 */
export const eventsRoutes: AdminRoutes = async (app, { ctx, queue }) => {
  app.post('/events', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const body = readIngestBody(request.body);
    if (!body.ok) {
      const first = body.issues[0]!;
      throw new HttpError(400, 'invalid_body', `${first.path}: ${first.message}`, {
        details: { issues: body.issues },
      });
    }
    if (body.events.length > MAX_EVENTS_PER_REQUEST) {
      throw new HttpError(
        413,
        'too_many_events',
        `a request carries at most ${MAX_EVENTS_PER_REQUEST} events, this one has ${body.events.length}: split it`,
      );
    }
    const results = await ingestEvents({ db: ctx.db, queue, logger: request.log, via: 'http' }, body.events);
    const only = results[0]!;
    if (body.single && only.status === 'rejected') {
      throw new HttpError(400, 'invalid_event', only.message!, {
        details: { id: only.id, issues: only.issues, failureId: only.failureId },
      });
    }
    return reply.code(202).send({ ...countByStatus(results), results });
  });
};

function countByStatus(results: IngestResult[]) {
  const counts = { accepted: 0, duplicate: 0, rejected: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}
