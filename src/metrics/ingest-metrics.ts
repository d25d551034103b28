import { Counter } from 'prom-client';
import { metricsRegistry } from './registry.js';

/** Counters of the ways in (queue consumer, HTTP/CLI ingest, outbox relay). */

/** Where an event came in: the queue consumer, `POST /v1/events`, `crm-sync publish`, the outbox relay. */
export type IngestVia = 'queue' | 'http' | 'cli' | 'outbox';

export const eventsUnknownTotal = new Counter({
  name: 'crm_sync_events_unknown_total',
  help: 'Events of a type this worker does not know, acknowledged without processing',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

export const eventsDuplicateTotal = new Counter({
  name: 'crm_sync_events_duplicate_total',
  help: 'Events skipped because their id was already processed or queued',
  labelNames: ['via'] as const,
  registers: [metricsRegistry],
});

export const eventsInvalidTotal = new Counter({
  name: 'crm_sync_events_invalid_total',
  help: 'Malformed events sent to the dead-letter store',
  labelNames: ['via'] as const,
  registers: [metricsRegistry],
});

export const eventsProcessedTotal = new Counter({
  name: 'crm_sync_events_processed_total',
  help: 'Events handed to the router and recorded as processed',
  labelNames: ['type'] as const,
  registers: [metricsRegistry],
});

export const eventsAcceptedTotal = new Counter({
  name: 'crm_sync_events_accepted_total',
  help: 'Events put on the crm-events queue by HTTP ingest, the CLI or the outbox relay',
  labelNames: ['via'] as const,
  registers: [metricsRegistry],
});

export const eventHandlerFailuresTotal = new Counter({
  name: 'crm_sync_event_handler_failures_total',
  help: 'Event jobs that failed (each retry counts); outcome=retry|exhausted',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

/** Event types come from the producer: cap the label so a bug upstream cannot explode cardinality. */
export function typeLabel(type: string): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(type) ? type : 'other';
}
