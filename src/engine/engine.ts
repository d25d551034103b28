import type { Queue } from 'bullmq';
import type { AppContext } from '../app/context.js';
import type { CrmEvent } from '../events/envelope.js';
import { createEventConsumer, type EventConsumer } from '../ingest/event-consumer.js';
import { createEventsQueue } from '../ingest/event-jobs.js';
import { createOutboxRelay, type OutboxRelay } from '../ingest/outbox-relay.js';
import { createCredentialsCipherFromEnv } from '../store/credentials-cipher.js';
import { markReplayed } from '../store/failures-repo.js';
import { setIntegrationStatus } from '../store/integrations-repo.js';
import { pruneProcessedEvents } from '../store/processed-events-repo.js';
import { redactString } from '../store/redact.js';
import { createAccountKeyCache } from './account-key.js';
import { deadLetterSyncJob } from './dead-letter-sync-job.js';
import { baseUrlsFromEnv } from './integration-runtime.js';
import { integrationSourceFromDb } from './integration-source.js';
import { NewestChangeStore } from './newest-change-store.js';
import { createRateLimiters } from './rate-limiter.js';
import { RecordLeases } from './record-leases.js';
import { RecordsInPush } from './records-in-push.js';
import { type ReplayResult, type ReplaySelection, replayFailures } from './replay.js';
import { createRouter, type RouteDecision } from './router.js';
import { RuntimeRegistry } from './runtime-registry.js';
import { logSuperseded, syncNewest } from './sync-batch.js';
import { createSyncProcessor } from './sync-processor.js';
import { SyncWorkers } from './sync-workers.js';
import { WriteBackQueue } from './write-back-queue.js';

const PROCESSED_EVENTS_RETENTION_DAYS = 7;
/**
 * Events one process routes at once while a backlog lasts (CRM_SYNC_EVENT_CONCURRENCY). At 200
 * the consumer does not widen: wider waves route a backlog faster (pipeline benchmark 0.46-0.55
 * of raw BullMQ at 500, against 0.44-0.46), but they hold the event loop longer, and a
 * rate-limited provider synced from the same process paces its requests later (HubSpot
 * benchmark 704-724 records/s against 720-737 at 200; docs/benchmarks.md).
 */
export const DEFAULT_EVENT_CONCURRENCY = 200;
/** …and when there is none: narrow waves route a burst's first events sooner. */
export const BASE_EVENT_CONCURRENCY = 200;
export const DEFAULT_COALESCE_MS = 200;

export interface EngineOptions {
  /** How long a state change waits for newer ones of the same record (coalescing window); default 200 ms. */
  coalesceMs?: number;
  /** How often workers notice integration changes (new, paused, edited). */
  refreshMs?: number;
  /**
   * Events consumed at once from `crm-events` by this process while a backlog lasts; default
   * 200. The consumer works in waves (a wave's events share one duplicate check, one
   * newest-change call and one sync job). It starts at 200 (or this, if lower), so a burst's
   * first events route in a narrow wave and a rate-limited provider's first batch fills soon,
   * and widens up to this while more events wait than a wave takes (docs/engine.md "Tuning").
   */
  eventConcurrency?: number;
  /** Run the outbox relay in this process. */
  relay?: boolean;
  /**
   * What this process does: `events` consumes `crm-events` and routes (and relays the outbox),
   * `sync` runs the integrations' sync workers and write-back, `all` both. Separate processes let
   * routing and syncing scale apart and keep a burst of events from starving the pushes.
   */
  role?: 'all' | 'events' | 'sync';
}

export interface Engine {
  /** Routes one validated event (what the `crm-events` consumer calls). */
  route(event: CrmEvent, priority?: 'live' | 'bulk'): Promise<RouteDecision[]>;
  replay(selection: ReplaySelection): Promise<ReplayResult[]>;
  /** Consumes events and syncs records until `stop()`. */
  start(): Promise<void>;
  /** Graceful: stop taking work, finish or return what is in flight, flush batches, close connections. */
  stop(): Promise<void>;
  registry: RuntimeRegistry;
  eventsQueue: Queue;
  queueFor(integrationId: string): Queue;
}

/**
 * Wires the sync engine from the process's resources: the router behind the `crm-events`
 * consumer, one sync queue and worker per integration, the shared rate limiters, write-back
 * and (optionally) the outbox relay.
 */
export function createEngine(ctx: AppContext, options: EngineOptions = {}): Engine {
  const { env, logger, db } = ctx;
  const prefix = env.CRM_SYNC_QUEUE_PREFIX;
  const cipher = createCredentialsCipherFromEnv(env, { onWarning: (message) => logger.warn(message) });
  const limiters = createRateLimiters({ redisUrl: env.REDIS_URL, prefix, logger });
  const source = integrationSourceFromDb(db, cipher);
  const registry = new RuntimeRegistry(
    source,
    {
      db,
      logger,
      limiters,
      accountKeys: createAccountKeyCache(ctx.redis(), prefix, logger),
      baseUrls: baseUrlsFromEnv(env),
    },
    options.refreshMs ?? 2000,
    logger,
  );
  const latest = new NewestChangeStore(ctx.redis(), prefix);
  const leases = new RecordLeases(ctx.redis(), prefix, logger);
  const inPush = new RecordsInPush();
  const writeBack = new WriteBackQueue({
    connection: () => ctx.redis(),
    prefix,
    db,
    logger,
    target:
      env.CRM_API_URL && env.CRM_API_KEY ? { crmApiUrl: env.CRM_API_URL, crmApiKey: env.CRM_API_KEY } : null,
  });

  const processor = createSyncProcessor({
    runtime: (id) => registry.get(id),
    submit: (rt, item) => workers.submit(rt, item),
    skipSuperseded: (rt, items) => logSuperseded(rt, items, { db }),
    addJob: (id, items, opts) => workers.addJob(id, items, opts),
    latest,
    logger,
    onPausedDelay: (id) => workers.notePausedBacklog(id),
    async onReplayed(failureId, outcome) {
      if (outcome.kind === 'synced' || outcome.kind === 'skipped') await markReplayed(db, failureId);
    },
  });
  const workers: SyncWorkers = new SyncWorkers({
    connection: () => ctx.redis(),
    prefix,
    registry,
    logger,
    processor,
    coalesceMs: options.coalesceMs ?? DEFAULT_COALESCE_MS,
    onJobFailed: async (job) => {
      const recorded = await deadLetterSyncJob(db, job, logger);
      logger.error(
        { jobId: job.id, records: recorded, reason: redactString(job.failedReason ?? '') },
        'sync job failed; its records are dead-lettered',
      );
    },
    flush: (rt, items) =>
      syncNewest(rt, items, {
        db,
        logger,
        latest,
        leases,
        inPush,
        async pauseIntegration(reason, untilMs) {
          await setIntegrationStatus(db, rt.integration.id, {
            status: 'paused',
            reason,
            pausedUntil: untilMs ? new Date(untilMs) : null,
          });
          registry.invalidate(rt.integration.id);
          logger.error({ integration: rt.integration.key, reason }, 'integration paused');
        },
        async onNewExternalIds(ids) {
          const property = rt.integration.config.writeBack?.property;
          if (!property) return;
          await writeBack.enqueue(
            ids.map((id) => ({
              integrationId: rt.integration.id,
              contactId: id.entityId,
              externalId: id.externalId,
              property,
            })),
          );
        },
      }),
  });
  const route = createRouter({
    runtimesFor: (organizationId) => registry.forOrganization(organizationId),
    enqueueDelta: async (id, item, jobId) => {
      await workers.addJob(id, [item], { jobId }, item.event.type);
    },
    enqueueState: async (rt, item) => {
      await workers.enqueueState(rt, item);
    },
    latest,
  });

  const eventsQueue = createEventsQueue(ctx.redis(), prefix);
  let consumer: EventConsumer | undefined;
  let relay: OutboxRelay | undefined;
  let refresher: NodeJS.Timeout | undefined;
  let pruner: NodeJS.Timeout | undefined;
  // Duplicate detection needs processed ids only as long as a duplicate can still arrive.
  const prune = () =>
    pruneProcessedEvents(db, PROCESSED_EVENTS_RETENTION_DAYS).catch((error: unknown) =>
      logger.warn({ err: (error as Error).message }, 'could not prune processed event ids'),
    );

  const refreshWorkers = async () => {
    try {
      await workers.refresh(await source.listAllEnabled());
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'could not refresh sync workers');
    }
  };

  return {
    route,
    registry,
    eventsQueue,
    queueFor: (id) => workers.queueFor(id),
    replay: (selection) =>
      replayFailures(
        { db, runtime: (id) => registry.get(id), queueFor: (id) => workers.queueFor(id), writeBack },
        selection,
      ),
    async start() {
      const role = options.role ?? 'all';
      if (role !== 'events') {
        await refreshWorkers();
        refresher = setInterval(refreshWorkers, options.refreshMs ?? 2000);
        refresher.unref();
        writeBack.start();
      }
      pruner = setInterval(prune, 6 * 3_600_000);
      pruner.unref();
      if (role === 'sync') return;
      consumer = createEventConsumer({
        connection: ctx.redis(),
        prefix,
        db,
        logger,
        concurrency: options.eventConcurrency ?? DEFAULT_EVENT_CONCURRENCY,
        baseConcurrency: BASE_EVENT_CONCURRENCY,
        onEvent: async (event) => {
          await route(event);
        },
      });
      if (options.relay ?? true) {
        relay = createOutboxRelay({ db, queue: eventsQueue, logger });
        relay.start();
      }
    },
    async stop() {
      if (refresher) clearInterval(refresher);
      if (pruner) clearInterval(pruner);
      await relay?.stop();
      await consumer?.close();
      await workers.close();
      await latest.close();
      await writeBack.close();
      await eventsQueue.close();
      await registry.close();
      await limiters.close();
    },
  };
}
