import type { Queue } from 'bullmq';
import { jobIdFor } from '../events/job-id.js';
import { type EventIssue, parseEvent } from '../events/parse-event.js';
import type { Logger } from '../logging/logger.js';
import {
  eventsAcceptedTotal,
  eventsDuplicateTotal,
  eventsInvalidTotal,
  type IngestVia,
} from '../metrics/ingest-metrics.js';
import type { Queryable } from '../store/failures-repo.js';
import { findProcessedEventIds } from '../store/processed-events-repo.js';
import { deadLetterInvalidEvent, summarizeInvalidEvent } from './dead-letter-event.js';
import { addEventJobs, eventJob, existingJobIds } from './event-jobs.js';

export interface IngestDeps {
  db: Queryable;
  queue: Queue;
  logger?: Pick<Logger, 'info'>;
  /** Where the events came from, for metrics. */
  via?: IngestVia;
}

export type IngestStatus = 'accepted' | 'duplicate' | 'rejected';

/** What happened to one event of a batch, in the batch's order. */
export interface IngestResult {
  /** Position in the batch: the way to find an event that has no usable id. */
  index: number;
  id: string | null;
  status: IngestStatus;
  /** Rejected only: every validation problem, with its path. */
  issues?: EventIssue[];
  /** Rejected only: the one-line summary stored with the dead letter. */
  message?: string;
  /** Rejected only: the dead letter's id (`crm-sync failures show ID`). */
  failureId?: number;
}

/**
 * Validates events and puts the valid ones on `crm-events` (the same jobs `publishCrmEvent`
 * makes). Malformed ones go to the dead-letter store and are reported as `rejected`; they never
 * hold back the valid ones. `duplicate` means the event id is already queued, already processed,
 * or earlier in this batch. Unknown event types are accepted and enqueued: the consumer is the one
 * place that counts and acknowledges them, whichever way they came in.
 *
 * The duplicate check is a report, not the guarantee: two concurrent calls with the same id may
 * both say `accepted`, and the job id still makes them one job.
 *
 * @example
 * const results = await ingestEvents({ db, queue, via: 'http' }, body.events);
 */
export async function ingestEvents(deps: IngestDeps, rawEvents: readonly unknown[]): Promise<IngestResult[]> {
  const via = deps.via ?? 'http';
  const results: IngestResult[] = [];
  const candidates: { index: number; id: string; type: string; raw: unknown }[] = [];
  const seen = new Set<string>();

  for (const [index, raw] of rawEvents.entries()) {
    const parsed = parseEvent(raw);
    if (parsed.kind === 'invalid') {
      const failureId = await deadLetterInvalidEvent(deps.db, raw, parsed);
      eventsInvalidTotal.inc({ via });
      results.push({
        index,
        id: parsed.eventId,
        status: 'rejected',
        issues: parsed.issues,
        message: summarizeInvalidEvent(parsed),
        failureId,
      });
      continue;
    }
    const envelope = parsed.kind === 'event' ? parsed.event : parsed.envelope;
    if (seen.has(envelope.id)) {
      results.push({ index, id: envelope.id, status: 'duplicate' });
      continue;
    }
    seen.add(envelope.id);
    results.push({ index, id: envelope.id, status: 'accepted' });
    candidates.push({ index, id: envelope.id, type: envelope.type, raw });
  }

  const [processed, queued] = await Promise.all([
    findProcessedEventIds(
      deps.db,
      candidates.map((c) => c.id),
    ),
    existingJobIds(
      deps.queue,
      candidates.map((c) => jobIdFor(c.id)),
    ),
  ]);
  const fresh = candidates.filter((c) => !processed.has(c.id) && !queued.has(jobIdFor(c.id)));
  await addEventJobs(
    deps.queue,
    fresh.map((c) => eventJob(c.raw, c.id, c.type)),
  );

  const freshIndexes = new Set(fresh.map((c) => c.index));
  for (const c of candidates) if (!freshIndexes.has(c.index)) results[c.index]!.status = 'duplicate';

  const duplicates = results.filter((r) => r.status === 'duplicate').length;
  if (fresh.length > 0) eventsAcceptedTotal.inc({ via }, fresh.length);
  if (duplicates > 0) eventsDuplicateTotal.inc({ via }, duplicates);
  deps.logger?.info(
    {
      via,
      accepted: fresh.length,
      duplicate: duplicates,
      rejected: results.length - fresh.length - duplicates,
    },
    'events ingested',
  );
  return results;
}
