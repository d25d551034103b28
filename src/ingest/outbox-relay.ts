import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { parseEvent } from '../events/parse-event.js';
import type { Logger } from '../logging/logger.js';
import { eventsAcceptedTotal, eventsInvalidTotal } from '../metrics/ingest-metrics.js';
import { type Db, withTransaction } from '../store/db.js';
import { claimOutboxBatch, deleteOutboxRows, recordOutboxError } from '../store/outbox-repo.js';
import { redactString } from '../store/redact.js';
import { deadLetterInvalidEvent } from './dead-letter-event.js';
import { addEventJobs, eventJob } from './event-jobs.js';

export interface OutboxRelayOptions {
  db: Db;
  queue: Queue;
  logger: Logger;
  /** Rows moved per transaction; default 100. */
  batchSize?: number;
  /** First wait after an empty poll; doubles while the outbox stays empty. Default 200 ms. */
  pollMs?: number;
  /** The longest wait between polls when idle (the worst-case latency). Default 2000 ms. */
  maxPollMs?: number;
}

export interface RelayBatch {
  /** Events put on the queue (or found there already: the job id makes a re-publish a no-op). */
  published: number;
  /** Malformed rows moved to the dead-letter store. */
  deadLettered: number;
}

export interface OutboxRelay {
  /** Starts the polling loop (idempotent). */
  start(): void;
  /** Stops polling; resolves once the batch in progress has committed or rolled back. */
  stop(): Promise<void>;
  /** Moves one batch; what the loop calls. Rejects when the enqueue or the delete failed. */
  runOnce(): Promise<RelayBatch>;
}

/**
 * Moves events from `crm_sync.outbox` to the `crm-events` queue. Per batch, in one transaction:
 *
 *   SELECT … FOR UPDATE SKIP LOCKED LIMIT n  →  queue.addBulk (job id = jobIdFor(event id))
 *   →  DELETE the rows  →  COMMIT
 *
 * The rows are deleted only after the enqueue succeeded, so a crash anywhere loses nothing: before
 * the commit the rows simply reappear and are enqueued again. That second enqueue doubles nothing:
 * a job with that id still in Redis makes it a no-op, and if the job was already processed and
 * trimmed, the consumer finds the id in `processed_events` and skips it. SKIP LOCKED lets several
 * relays share the outbox, each taking rows no other holds. Malformed rows are dead-lettered and
 * deleted in the same transaction, so one bad row never blocks the rows behind it.
 *
 * @example
 * const relay = createOutboxRelay({ db: ctx.db, queue, logger: ctx.logger });
 * relay.start();
 * // on shutdown
 * await relay.stop();
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, queue } = options;
  const logger = options.logger.child({ component: 'outbox-relay' });
  const batchSize = options.batchSize ?? 100;
  const pollMs = options.pollMs ?? 200;
  const maxPollMs = Math.max(options.maxPollMs ?? 2_000, pollMs);
  let loop: Promise<void> | undefined;
  let stopping: AbortController | undefined;

  async function runOnce(): Promise<RelayBatch> {
    let claimed: number[] = [];
    try {
      const batch = await withTransaction(db, async (client) => {
        const rows = await claimOutboxBatch(client, batchSize);
        claimed = rows.map((r) => r.id);
        const jobs: ReturnType<typeof eventJob>[] = [];
        let deadLettered = 0;
        for (const row of rows) {
          const parsed = parseEvent(row.event);
          if (parsed.kind === 'invalid') {
            await deadLetterInvalidEvent(client, row.event, parsed, `outbox:${row.id}`);
            deadLettered += 1;
            continue;
          }
          const envelope = parsed.kind === 'event' ? parsed.event : parsed.envelope;
          jobs.push(eventJob(row.event, envelope.id, envelope.type));
        }
        await addEventJobs(queue, jobs);
        await deleteOutboxRows(client, claimed);
        return { published: jobs.length, deadLettered };
      });
      if (batch.published > 0) eventsAcceptedTotal.inc({ via: 'outbox' }, batch.published);
      if (batch.deadLettered > 0) eventsInvalidTotal.inc({ via: 'outbox' }, batch.deadLettered);
      if (batch.deadLettered > 0)
        logger.warn({ count: batch.deadLettered }, 'malformed outbox rows dead-lettered');
      return batch;
    } catch (error) {
      const message = redactString(error instanceof Error ? error.message : String(error));
      await recordOutboxError(db, claimed, message).catch(() => {});
      throw error;
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    let idleMs = pollMs;
    while (!signal.aborted) {
      let moved = 0;
      try {
        const batch = await runOnce();
        moved = batch.published + batch.deadLettered;
      } catch (error) {
        logger.warn({ err: redactString(String(error)), retryInMs: idleMs }, 'outbox relay batch failed');
      }
      // A full batch means more are waiting: take the next at once.
      if (moved >= batchSize) {
        idleMs = pollMs;
        continue;
      }
      if (moved > 0) idleMs = pollMs;
      await sleep(idleMs, undefined, { signal }).catch(() => {});
      idleMs = Math.min(idleMs * 2, maxPollMs);
    }
  }

  return {
    runOnce,
    start() {
      if (loop) return;
      stopping = new AbortController();
      loop = run(stopping.signal);
    },
    async stop() {
      stopping?.abort();
      await loop;
      loop = undefined;
      stopping = undefined;
    },
  };
}
