import { Counter } from 'prom-client';
import type { SyncLogEntry } from '../store/sync-log-repo.js';
import { metricsRegistry } from './registry.js';

/**
 * Records whose sync attempt ended, by integration and result: the rate an operator watches (and
 * alerts on when `failed` or `retrying` climbs), without reading the sync log. Counted once the
 * attempt's links and log rows are written, so a `success` here is already in Postgres.
 */
export const syncRecordsTotal = new Counter({
  name: 'crm_sync_records_total',
  help: 'Record sync attempts logged, by integration key and result (success, skipped, retrying, failed)',
  labelNames: ['integration', 'result'] as const,
  registers: [metricsRegistry],
});

/** Counts the attempts of one sync log write. */
export function countSyncedRecords(
  integration: string,
  entries: readonly Pick<SyncLogEntry, 'result'>[],
): void {
  const byResult = new Map<SyncLogEntry['result'], number>();
  for (const { result } of entries) byResult.set(result, (byResult.get(result) ?? 0) + 1);
  for (const [result, n] of byResult) syncRecordsTotal.inc({ integration, result }, n);
}

/** How many of an integration's attempts ended with `result`, in this process (tests, benchmarks). */
export async function syncedRecordCount(
  integration: string,
  result: SyncLogEntry['result'],
): Promise<number> {
  const { values } = await syncRecordsTotal.get();
  return values.find((v) => v.labels.integration === integration && v.labels.result === result)?.value ?? 0;
}
