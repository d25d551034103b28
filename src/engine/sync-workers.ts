import { type ConnectionOptions, type JobsOptions, Queue, Worker } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import { failedForGood, watchFailedJobs } from './failed-jobs.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import { MicroBatcher } from './micro-batcher.js';
import type { RuntimeRegistry } from './runtime-registry.js';
import type { SyncItem, SyncOutcome } from './sync-batch.js';
import { type SyncJobItemInput, syncJobOptions, syncQueueName } from './sync-job.js';

export type BulkJob = { name: string; data: unknown; opts: JobsOptions };

export interface SyncWorkersDeps {
  connection: () => ConnectionOptions;
  prefix: string;
  registry: RuntimeRegistry;
  logger: Logger;
  processor: (job: import('bullmq').Job, token?: string) => Promise<unknown>;
  flush: (rt: IntegrationRuntime, items: SyncItem[]) => Promise<SyncOutcome[]>;
  /** How long a batch job of state changes waits before it runs, so that rapid changes coalesce. */
  coalesceMs: number;
  /** A job failed for good (attempts exhausted, or stalled too often): its records need dead letters. */
  onJobFailed?: (job: import('bullmq').Job) => Promise<unknown>;
}

/**
 * State changes routed within this window become one job: long enough to group what a busy
 * consumer routes at once (its events arrive within a millisecond or two of each other), short
 * enough that the router's wait for the job to be in Redis stays negligible. Every crm-events
 * job waits for it before it completes, so it is paid once per consumer wave: 10 ms cost the
 * pipeline about 10% of its rate at the default concurrency (docs/benchmarks.md).
 */
const STATE_BATCH_WINDOW_MS = 2;

/** The longest a provider batch that is not full is held for more records, in batch windows. */
const PARTIAL_BATCH_MAX_WINDOWS = 4;

/**
 * One BullMQ worker per enabled integration's sync queue, and one micro-batcher per
 * integration runtime. A job holds many records, and the micro-batcher regroups the records of
 * the jobs running at once into the connector's batch calls. Concurrency lets about four
 * provider batches be pending (one in flight, the next ones filling while they wait for the
 * account's rate budget) at the usual job size under load (about ten records).
 */
export class SyncWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly queues = new Map<string, Queue>();
  private readonly batchers = new WeakMap<IntegrationRuntime, MicroBatcher<SyncItem, SyncOutcome>>();
  private readonly allBatchers = new Set<MicroBatcher<SyncItem, SyncOutcome>>();
  private queueConnection: ConnectionOptions | undefined;
  private readonly enqueuers = new Map<string, MicroBatcher<BulkJob, undefined>>();
  private readonly stateBatchers = new Map<string, MicroBatcher<SyncJobItemInput, undefined>>();
  /** Integrations whose jobs this process put aside while they were paused, and since when. */
  private readonly pausedBacklog = new Map<string, number>();
  /** Runtimes whose connector was asked to read ahead (a rebuilt runtime is a new object). */
  private readonly warmed = new WeakSet<IntegrationRuntime>();
  /** Dead letters being written for failed jobs; close() waits for them. */
  private readonly failedJobs: { settled(): Promise<void> }[] = [];

  constructor(private readonly deps: SyncWorkersDeps) {}

  /** The integration's sync queue (for the router and replays); shared connection. */
  queueFor(integrationId: string): Queue {
    let queue = this.queues.get(integrationId);
    if (!queue) {
      this.queueConnection ??= this.deps.connection();
      queue = new Queue(syncQueueName(integrationId), {
        connection: this.queueConnection,
        prefix: this.deps.prefix,
      });
      this.queues.set(integrationId, queue);
    }
    return queue;
  }

  /**
   * Adds a sync job; the jobs routed at the same moment go to Redis in one `addBulk` (one
   * round trip for many events instead of one each). Job options, deduplication included,
   * apply per job exactly as with `add`.
   */
  enqueue(integrationId: string, job: BulkJob): Promise<undefined> {
    let enqueuer = this.enqueuers.get(integrationId);
    if (!enqueuer) {
      const queue = this.queueFor(integrationId);
      enqueuer = new MicroBatcher<BulkJob, undefined>({
        name: `enqueue ${integrationId}`,
        maxSize: 500,
        windowMs: 1,
        flush: async (jobs) => {
          await queue.addBulk(jobs);
          return jobs.map(() => undefined);
        },
      });
      this.enqueuers.set(integrationId, enqueuer);
    }
    return enqueuer.add(job);
  }

  /**
   * Adds a record's state change to the integration's next batch job (one per priority). The
   * job waits `coalesceMs` before it runs, so that a change of the same record arriving meanwhile
   * supersedes this one (see NewestChangeStore) and only the newest is pushed.
   */
  enqueueState(rt: IntegrationRuntime, item: SyncJobItemInput): Promise<undefined> {
    const integrationId = rt.integration.id;
    const priority = item.priority ?? 'live';
    const key = `${integrationId}:${priority}`;
    let batcher = this.stateBatchers.get(key);
    if (!batcher) {
      batcher = new MicroBatcher<SyncJobItemInput, undefined>({
        name: `sync batches ${rt.integration.key}`,
        maxSize: rt.connector.batchSize,
        windowMs: STATE_BATCH_WINDOW_MS,
        flush: async (items) => {
          await this.addJob(integrationId, items, { delay: this.deps.coalesceMs });
          return items.map(() => undefined);
        },
      });
      this.stateBatchers.set(key, batcher);
    }
    return batcher.add(item);
  }

  /**
   * One job of records for the integration: a batch of state changes, a delta (named after its
   * event type, with the event id as job id), retries, records held by a pause.
   */
  addJob(
    integrationId: string,
    items: SyncJobItemInput[],
    opts: JobsOptions = {},
    name = 'sync-batch',
  ): Promise<undefined> {
    const priority = items.every((i) => i.priority === 'bulk') ? 'bulk' : 'live';
    return this.enqueue(integrationId, {
      name,
      data: { integrationId, items },
      opts: { ...syncJobOptions(priority, opts.jobId !== undefined), ...opts },
    });
  }

  submit(rt: IntegrationRuntime, item: SyncItem): Promise<SyncOutcome> {
    let batcher = this.batchers.get(rt);
    if (!batcher) {
      this.warmUp(rt);
      const windowMs = rt.connector.batchWindowMs ?? 20;
      batcher = new MicroBatcher<SyncItem, SyncOutcome>({
        maxSize: rt.connector.batchSize,
        windowMs,
        flush: (items) => this.deps.flush(rt, items),
        // Every request counts against the provider's budget: a batch that is not full waits
        // while it could not leave sooner anyway, or while its integration's next records are
        // already queued (a burst's first event routes alone, and its batch would leave with one
        // record). A lone change still leaves after one window.
        holdPartial: async () =>
          rt.limiter.waitingHere() > 0 || (await this.moreDueWithin(rt.integration.id, windowMs)),
        maxHoldMs: windowMs * PARTIAL_BATCH_MAX_WINDOWS,
      });
      this.batchers.set(rt, batcher);
      this.allBatchers.add(batcher);
    }
    return batcher.add(item);
  }

  /**
   * Lets the connector read ahead what its first push needs, while nothing waits for it: when the
   * integration's worker starts, and when a rebuilt runtime gets its first record. Mailchimp's
   * merge fields read inside a burst's first push cost that push a round trip and a slot of the
   * account's budget (one request every 132 ms at 8/s): its first batch left about 0.2 s later.
   */
  private warmUp(rt: IntegrationRuntime): void {
    if (this.warmed.has(rt) || !rt.client.warmUp || rt.integration.status !== 'active') return;
    this.warmed.add(rt);
    rt.client
      .warmUp()
      .catch((error: unknown) =>
        this.deps.logger.warn(
          { integration: rt.integration.key, err: (error as Error).message },
          'could not read ahead for the first push; it will read what it needs itself',
        ),
      );
  }

  /** Whether the integration's queue holds jobs that are ready, or due within `ms`. */
  private async moreDueWithin(integrationId: string, ms: number): Promise<boolean> {
    const queue = this.queueFor(integrationId);
    const [counts, dueSoon] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized'),
      queue.getDelayedCount(Math.round(Date.now() + ms)),
    ]);
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + dueSoon > 0;
  }

  /** The processor put a job aside because its integration is paused. */
  notePausedBacklog(integrationId: string): void {
    if (!this.pausedBacklog.has(integrationId)) this.pausedBacklog.set(integrationId, Date.now());
  }

  /**
   * Starts a worker for every enabled integration that has none, stops those of removed ones.
   * An integration that is active again has the jobs put aside during its pause promoted, so
   * its backlog moves now rather than at their next check.
   */
  async refresh(integrations: { id: string; key: string; status: string; updatedAt: Date }[]): Promise<void> {
    const wanted = new Set(integrations.map((i) => i.id));
    for (const integration of integrations) {
      // Only a row changed after the jobs were put aside is a resume: a list read just before
      // the pause was written still says active, and must not bring the jobs straight back.
      const noted = this.pausedBacklog.get(integration.id);
      if (integration.status === 'active' && noted !== undefined && integration.updatedAt.getTime() > noted) {
        this.pausedBacklog.delete(integration.id);
        this.deps.registry.invalidate(integration.id);
        await this.queueFor(integration.id).promoteJobs();
      }
      if (this.workers.has(integration.id)) continue;
      const rt = await this.deps.registry.get(integration.id).catch(() => null);
      if (!rt) continue;
      this.warmUp(rt);
      const concurrency = Math.min(200, Math.max(16, Math.ceil((rt.connector.batchSize * 4) / 10)));
      const worker = new Worker(syncQueueName(integration.id), this.deps.processor, {
        connection: this.deps.connection(),
        prefix: this.deps.prefix,
        concurrency,
      });
      worker.on('error', (error) =>
        this.deps.logger.error({ integration: integration.key, err: error.message }, 'sync worker error'),
      );
      const onJobFailed = this.deps.onJobFailed;
      if (onJobFailed) {
        this.failedJobs.push(
          watchFailedJobs(worker, failedForGood, onJobFailed, (job, error) =>
            this.deps.logger.error(
              { integration: integration.key, jobId: job.id, err: (error as Error).message },
              'could not dead-letter the records of a failed sync job; they stay in its failed job',
            ),
          ),
        );
      }
      this.workers.set(integration.id, worker);
    }
    for (const [id, worker] of this.workers) {
      if (!wanted.has(id)) {
        this.workers.delete(id);
        await worker.close();
      }
    }
  }

  /** Graceful: stop taking jobs, let active ones finish (their batches flush), close queues. */
  async close(): Promise<void> {
    const closing = [...this.workers.values()].map((w) => w.close());
    await Promise.all([...this.stateBatchers.values()].map((b) => b.close()));
    await Promise.all([...this.allBatchers].map((b) => b.flush()));
    await Promise.all(closing);
    await Promise.all(this.failedJobs.map((f) => f.settled()));
    await Promise.all([...this.allBatchers].map((b) => b.close()));
    await Promise.all([...this.enqueuers.values()].map((e) => e.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.workers.clear();
    this.queues.clear();
  }
}
