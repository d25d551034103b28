import { DelayedError, type Job, type Processor, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { isConnectorError } from '../connectors/errors.js';
import { stalledTooOften, watchFailedJobs } from '../engine/failed-jobs.js';
import { backoffDelay, type RetryPolicy } from '../engine/retry-policy.js';
import type { CrmEvent } from '../events/envelope.js';
import { parseEvent } from '../events/parse-event.js';
import { CRM_EVENTS_QUEUE } from '../events/publish.js';
import type { Logger } from '../logging/logger.js';
import {
  eventHandlerFailuresTotal,
  eventsDuplicateTotal,
  eventsInvalidTotal,
  eventsProcessedTotal,
  eventsUnknownTotal,
  typeLabel,
} from '../metrics/ingest-metrics.js';
import { type FailureErrorKind, type Queryable, recordFailure } from '../store/failures-repo.js';
import { releaseEventClaim } from '../store/processed-events-repo.js';
import { redactString } from '../store/redact.js';
import { deadLetterInvalidEvent } from './dead-letter-event.js';
import { EventClaims } from './event-claims.js';
import { createEventsQueue, DEFAULT_QUEUE_PREFIX } from './event-jobs.js';

/** The consumer retries a failing router with the engine's backoff, 1 s up to 5 min. */
const CONSUMER_RETRY_POLICY: RetryPolicy = { attempts: 8, backoffMs: 1_000, maxDelayMs: 300_000 };

/** What the handler learns about the delivery besides the event itself. */
export interface EventMeta {
  jobId: string;
  /** 1 on the first delivery, 2 on the first retry, … */
  attempt: number;
  /** The consumer's logger, bound to the event id, type and correlation id. */
  logger: Logger;
}

/** The engine's router. Must be idempotent per event id (see the order of operations below). */
export type EventHandler = (event: CrmEvent, meta: EventMeta) => Promise<void>;

export interface EventConsumerOptions {
  /** BullMQ duplicates it for its blocking connection; the caller still owns and closes it. */
  connection: Redis;
  /** Key prefix (`CRM_SYNC_QUEUE_PREFIX`); default `crm-sync`. */
  prefix?: string;
  db: Queryable;
  logger: Logger;
  /** Jobs processed at once by this process while a backlog lasts; default 4. */
  concurrency?: number;
  /**
   * Jobs processed at once when there is no backlog (default: `concurrency`). A consumer works
   * in waves, and a narrow wave routes a burst's first events sooner (a rate-limited provider's
   * first batch fills sooner); while more events wait than a wave takes, the consumer widens
   * its waves step by step up to `concurrency`, where each round trip is shared by more events.
   */
  baseConcurrency?: number;
  onEvent: EventHandler;
  retry?: Partial<RetryPolicy>;
}

export interface EventConsumer {
  worker: Worker;
  /** Stops taking jobs and waits for the ones in progress. */
  close(): Promise<void>;
}

type Outcome = 'processed' | 'duplicate' | 'unknown_type' | 'rejected';

/**
 * Consumes `crm-events`. Per job:
 *   malformed      → dead letter (stage `ingest`), job completes: bad input is never retried;
 *   unknown type   → counted (`crm_sync_events_unknown_total{type}`), acknowledged;
 *   id claimed by another delivery → skipped, counted;
 *   otherwise      → the id is claimed in `processed_events` for this delivery, then `onEvent(event)`.
 *
 * Order of operations: the claim names the delivery (the job's id and creation time), so a crash
 * or error after it means the same job runs again, finds its own claim and routes the event again:
 * never lost. That is safe because the router's fan-out is idempotent: a delta's job id is the
 * event id (re-adding it is a no-op), and a state change routed again is skipped at sync time (its
 * link already holds the event). A re-published event is a new job, finds the first job's claim,
 * and is a duplicate. One statement per event instead of a check before and a mark after: that
 * round trip was a sixth of each event's time in the consumer.
 *
 * Retries are decided here, not by the job's `attempts` option, because the CRM publishes
 * jobs with whatever options it likes (usually none): any error is retried with backoff up to
 * `retry.attempts` deliveries, then dead-lettered (code `handler_failed`) and the job fails.
 *
 * @example
 * const consumer = createEventConsumer({ connection: ctx.redis(), prefix: env.CRM_SYNC_QUEUE_PREFIX,
 *   db: ctx.db, logger: ctx.logger, onEvent: (event, meta) => router.route(event, meta) });
 * // on shutdown
 * await consumer.close();
 */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { db, logger, onEvent } = options;
  const claims = new EventClaims(db);
  const policy: RetryPolicy = { ...CONSUMER_RETRY_POLICY, ...options.retry };

  async function handle(job: Job, log: () => Logger): Promise<Outcome> {
    const parsed = parseEvent(job.data);
    if (parsed.kind === 'invalid') {
      const failureId = await deadLetterInvalidEvent(db, job.data, parsed, job.id);
      eventsInvalidTotal.inc({ via: 'queue' });
      log().warn({ failureId, issues: parsed.issues.length }, 'malformed event dead-lettered');
      return 'rejected';
    }
    if (parsed.kind === 'unknown_type') {
      eventsUnknownTotal.inc({ type: typeLabel(parsed.envelope.type) });
      log().info('event of unknown type acknowledged');
      return 'unknown_type';
    }
    const { event } = parsed;
    if (!(await claims.claim({ eventId: event.id, eventType: event.type, delivery: deliveryOf(job) }))) {
      eventsDuplicateTotal.inc({ via: 'queue' });
      log().debug('duplicate event skipped');
      return 'duplicate';
    }
    await onEvent(event, {
      jobId: job.id!,
      attempt: job.attemptsStarted,
      get logger() {
        return log();
      },
    });
    eventsProcessedTotal.inc({ type: event.type });
    return 'processed';
  }

  const processor: Processor = async (job, token) => {
    const data = job.data as Record<string, unknown> | null;
    // Made when something is logged: a child logger per event costs more than most events' handling.
    let child: Logger | undefined;
    const log = () =>
      (child ??= logger.child({
        jobId: job.id,
        eventId: typeof data?.id === 'string' ? data.id : undefined,
        eventType: job.name,
        correlationId: typeof data?.correlationId === 'string' ? data.correlationId : undefined,
      }));
    try {
      return await handle(job, log);
    } catch (error) {
      return retryOrGiveUp(job, token, error, log());
    }
  };

  async function retryOrGiveUp(job: Job, token: string | undefined, error: unknown, log: Logger) {
    const attempt = job.attemptsStarted;
    const message = redactString(error instanceof Error ? error.message : String(error));
    if (attempt < policy.attempts) {
      const delay = backoffDelay(policy, attempt);
      eventHandlerFailuresTotal.inc({ outcome: 'retry' });
      log.warn({ err: message, attempt, retryInMs: delay }, 'event handling failed; will retry');
      await job.moveToDelayed(Date.now() + delay, token);
      // Tells BullMQ the job was rescheduled, not failed (https://docs.bullmq.io/patterns/process-step-jobs).
      throw new DelayedError();
    }
    eventHandlerFailuresTotal.inc({ outcome: 'exhausted' });
    log.error({ err: message, attempt }, 'event handling failed; giving up');
    await giveUp(job, log, {
      errorKind: isConnectorError(error) ? error.kind : 'internal',
      errorCode: 'handler_failed',
      errorMessage: `gave up after ${attempt} attempts: ${message}`,
    });
    // Unrecoverable: a job published with its own `attempts` must not start a second retry cycle.
    throw new UnrecoverableError(message);
  }

  /**
   * The end of an event the consumer could not route: its claim is released, because publishing
   * it again (what the dead letter tells the operator) must route it, and it is dead-lettered.
   * Neither store failing stops the other; the failed job stays in BullMQ either way.
   */
  async function giveUp(
    job: Job,
    log: Logger,
    failure: { errorKind: FailureErrorKind; errorCode: string; errorMessage: string },
  ) {
    const data = job.data as Record<string, unknown> | null;
    const eventId = typeof data?.id === 'string' ? data.id : null;
    if (eventId) {
      await releaseEventClaim(db, eventId, deliveryOf(job)).catch((storeError: unknown) =>
        log.error(
          { err: String(storeError) },
          'could not release the event claim; publishing it again will be skipped',
        ),
      );
    }
    await recordFailure(db, {
      failureKey: `ingest:${eventId ?? job.id}`,
      stage: 'ingest',
      eventId,
      eventType: job.name,
      event: job.data,
      ...failure,
      attempts: job.attemptsStarted,
    }).catch((storeError: unknown) =>
      log.error({ err: String(storeError) }, 'could not dead-letter the event; it stays in the failed jobs'),
    );
  }

  const maxConcurrency = options.concurrency ?? 4;
  const baseConcurrency = Math.min(options.baseConcurrency ?? maxConcurrency, maxConcurrency);
  const worker = new Worker(CRM_EVENTS_QUEUE, processor, {
    connection: options.connection,
    prefix: options.prefix ?? DEFAULT_QUEUE_PREFIX,
    concurrency: baseConcurrency,
    // For jobs published without their own options, the same as ours: removed once completed
    // (see CRM_EVENT_JOB_OPTIONS). The worker-level option takes a count, not `true`.
    removeOnComplete: { count: 0 },
    removeOnFail: { age: 7 * 86_400, count: 10_000 },
  });
  worker.on('error', (error) => logger.error({ err: redactString(error.message) }, 'event consumer error'));
  // A job whose worker died while handling it more often than BullMQ allows (its lock expired:
  // a crash, or an event loop blocked past lockDuration) is failed by BullMQ itself, without a
  // call to the processor: a poison event must not crash every worker in turn. It still gets a
  // dead letter and its claim back, like any event the consumer gives up on.
  const stalled = watchFailedJobs(
    worker,
    stalledTooOften,
    async (job) => {
      eventHandlerFailuresTotal.inc({ outcome: 'exhausted' });
      const data = job.data as Record<string, unknown> | null;
      const log = logger.child({
        jobId: job.id,
        eventId: typeof data?.id === 'string' ? data.id : undefined,
        eventType: job.name,
      });
      log.error({ reason: job.deferredFailure }, 'event handling stalled too often; giving up');
      await giveUp(job, log, {
        errorKind: 'internal',
        errorCode: 'stalled',
        errorMessage: `the worker handling it stopped before finishing, ${job.attemptsStarted} times (${job.deferredFailure})`,
      });
    },
    // giveUp logs its own store failures.
    () => undefined,
  );

  const backlog =
    maxConcurrency > baseConcurrency
      ? widenWhileBacklogged(worker, options, baseConcurrency, maxConcurrency)
      : null;

  return {
    worker,
    async close() {
      await backlog?.stop();
      await worker.close();
      await stalled.settled();
      await claims.close();
    },
  };
}

/** Names one delivery: the same for a retry or a stalled job run again, new for a re-published event. */
function deliveryOf(job: Job): string {
  return `${job.id}@${job.timestamp}`;
}

/** How often the consumer looks at its backlog to widen or narrow its waves. */
const BACKLOG_CHECK_MS = 250;

/**
 * Widens the worker's waves by half a base wave per check while more events wait than a wave
 * takes, up to `max`; back to `base` once nothing waits.
 */
function widenWhileBacklogged(worker: Worker, options: EventConsumerOptions, base: number, max: number) {
  const queue = createEventsQueue(options.connection, options.prefix ?? DEFAULT_QUEUE_PREFIX);
  const step = Math.max(1, Math.ceil(base / 2));
  let checking: Promise<void> = Promise.resolve();
  const check = async () => {
    const waiting = await queue.getWaitingCount();
    if (waiting > worker.concurrency) worker.concurrency = Math.min(max, worker.concurrency + step);
    else if (waiting === 0) worker.concurrency = base;
  };
  const timer = setInterval(() => {
    checking = check().catch((error: unknown) =>
      options.logger.warn(
        { err: redactString((error as Error).message) },
        'could not read the events backlog',
      ),
    );
  }, BACKLOG_CHECK_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await checking;
      await queue.close();
    },
  };
}
