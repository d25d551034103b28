import { type ConnectionOptions, type JobsOptions, Queue, Worker } from 'bullmq';
import type { Logger } from '../logging/logger.js';
import type { IntegrationRuntime } from './integration-runtime.js';
import { MicroBatcher } from './micro-batcher.js';
import type { RuntimeRegistry } from './runtime-registry.js';
import type { SyncItem, SyncOutcome } from './sync-batch.js';
import { syncBackoffStrategy, syncQueueName } from './sync-job.js';

export type BulkJob = { name: string; data: unknown; opts: JobsOptions };

export interface SyncWorkersDeps {
  connection: () => ConnectionOptions;
  prefix: string;
  registry: RuntimeRegistry;
  logger: Logger;
  processor: (job: import('bullmq').Job, token?: string) => Promise<unknown>;
  flush: (rt: IntegrationRuntime, items: SyncItem[]) => Promise<SyncOutcome[]>;
}

/**
 * One BullMQ worker per enabled integration's sync queue, and one micro-batcher per
 * integration runtime. Concurrency is four times the connector's batch size so batches fill
 * while earlier ones wait for the account's rate budget or are in flight.
 */
export class SyncWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly queues = new Map<string, Queue>();
  private readonly batchers = new WeakMap<IntegrationRuntime, MicroBatcher<SyncItem, SyncOutcome>>();
  private readonly allBatchers = new Set<MicroBatcher<SyncItem, SyncOutcome>>();
  private queueConnection: ConnectionOptions | undefined;
  private readonly enqueuers = new Map<string, MicroBatcher<BulkJob, undefined>>();
  /** Integrations whose jobs this process put aside while they were paused, and since when. */
  private readonly pausedBacklog = new Map<string, number>();

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

  submit(rt: IntegrationRuntime, item: SyncItem): Promise<SyncOutcome> {
    let batcher = this.batchers.get(rt);
    if (!batcher) {
      batcher = new MicroBatcher<SyncItem, SyncOutcome>({
        maxSize: rt.connector.batchSize,
        windowMs: rt.connector.batchWindowMs ?? 20,
        flush: (items) => this.deps.flush(rt, items),
      });
      this.batchers.set(rt, batcher);
      this.allBatchers.add(batcher);
    }
    return batcher.add(item);
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
      const concurrency = Math.min(1000, Math.max(20, rt.connector.batchSize * 4));
      const worker = new Worker(syncQueueName(integration.id), this.deps.processor, {
        connection: this.deps.connection(),
        prefix: this.deps.prefix,
        concurrency,
        settings: { backoffStrategy: syncBackoffStrategy },
      });
      worker.on('error', (error) =>
        this.deps.logger.error({ integration: integration.key, err: error.message }, 'sync worker error'),
      );
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
    await Promise.all([...this.allBatchers].map((b) => b.flush()));
    await Promise.all(closing);
    await Promise.all([...this.allBatchers].map((b) => b.close()));
    await Promise.all([...this.enqueuers.values()].map((e) => e.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.workers.clear();
    this.queues.clear();
  }
}
