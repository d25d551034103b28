import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The one registry `/metrics` serves. Every crm-sync metric registers here (pass
 * `registers: [metricsRegistry]`), never on prom-client's global default, so that embedding
 * crm-sync in another service does not mix its metrics with the host's.
 */
export const metricsRegistry = new Registry();

let processMetrics = false;

/** Adds Node's process metrics (CPU, memory, event-loop lag). Idempotent; called by servers, not on import. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'crm_sync_' });
}
