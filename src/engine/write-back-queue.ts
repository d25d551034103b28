import { randomUUID } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { z } from 'zod';
import { isConnectorError } from '../connectors/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Db } from '../store/db.js';
import { markReplayed, recordFailure } from '../store/failures-repo.js';
import { stalledTooOften, watchFailedJobs } from './failed-jobs.js';
import { type WriteBackTarget, writeBackExternalId } from './write-back.js';

export const WRITE_BACK_QUEUE = 'crm-writeback';

const WriteBackJob = z.object({
  integrationId: z.string(),
  contactId: z.string(),
  property: z.string(),
  externalId: z.string(),
  /** Set by `crm-sync replay`: the dead letter this write-back re-runs. */
  replayOf: z.number().int().optional(),
});
type WriteBackJob = z.infer<typeof WriteBackJob>;

/** The dead letter of a contact's write-back: one per integration and contact. */
export function writeBackFailureKey(integrationId: string, contactId: string): string {
  return `writeback:${integrationId}:${contactId}`;
}

const ATTEMPTS = 8;

/**
 * Write-backs run on a queue of their own, so a slow or failing CRM API never holds up pushes
 * to providers: the link is already stored, and the CRM learns the id when it can.
 */
export class WriteBackQueue {
  private readonly queue: Queue;
  private worker: Worker | undefined;
  /** Dead letters being written for stalled jobs; close() waits for them. */
  private stalled: { settled(): Promise<void> } | undefined;

  constructor(
    private readonly deps: {
      connection: () => ConnectionOptions;
      prefix: string;
      db: Db;
      logger: Logger;
      target: WriteBackTarget | null;
    },
  ) {
    this.queue = new Queue(WRITE_BACK_QUEUE, { connection: deps.connection(), prefix: deps.prefix });
  }

  get enabled(): boolean {
    return this.deps.target !== null;
  }

  async enqueue(jobs: WriteBackJob[]): Promise<void> {
    if (!this.enabled || jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((data) => ({
        name: 'write-back',
        data,
        opts: {
          // One write per (integration, contact, id): a re-push of a linked record writes nothing.
          // A replay is a write of its own (the failed job keeps the plain id for 7 days).
          jobId: `${data.integrationId}.${Buffer.from(data.contactId).toString('base64url')}.${Buffer.from(data.externalId).toString('base64url')}${data.replayOf === undefined ? '' : `.replay-${data.replayOf}-${randomUUID()}`}`,
          attempts: ATTEMPTS,
          backoff: { type: 'exponential', delay: 2000 },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 7 * 86_400 },
        },
      })),
    );
  }

  start(): void {
    const target = this.deps.target;
    if (!target || this.worker) return;
    this.worker = new Worker(WRITE_BACK_QUEUE, (job) => this.process(job, target), {
      connection: this.deps.connection(),
      prefix: this.deps.prefix,
      concurrency: 10,
    });
    this.worker.on('error', (error) =>
      this.deps.logger.error({ err: error.message }, 'write-back worker error'),
    );
    // Failed by BullMQ itself after its workers died with it twice: the processor never saw it.
    this.stalled = watchFailedJobs(
      this.worker,
      stalledTooOften,
      (job) => this.deadLetterStalled(job),
      (job, error) =>
        this.deps.logger.error(
          { jobId: job.id, err: (error as Error).message },
          'could not dead-letter a stalled write-back',
        ),
    );
  }

  private async deadLetterStalled(job: Job): Promise<void> {
    const data = WriteBackJob.safeParse(job.data);
    if (!data.success) return;
    await recordFailure(this.deps.db, {
      failureKey: writeBackFailureKey(data.data.integrationId, data.data.contactId),
      stage: 'sync',
      integrationId: data.data.integrationId,
      entityType: 'contact',
      entityId: data.data.contactId,
      errorKind: 'internal',
      errorCode: 'stalled',
      errorMessage: `writing ${data.data.property}=${data.data.externalId} back to the CRM stopped before finishing, ${job.attemptsStarted} times (${job.deferredFailure})`,
      attempts: job.attemptsStarted,
    });
  }

  private async process(job: Job, target: WriteBackTarget): Promise<void> {
    const data = WriteBackJob.parse(job.data);
    try {
      await writeBackExternalId(target, data);
      if (data.replayOf !== undefined) await markReplayed(this.deps.db, data.replayOf);
    } catch (error) {
      const retryable = isConnectorError(error) && error.kind === 'retryable';
      const last = job.attemptsMade + 1 >= ATTEMPTS;
      if (!retryable || last) {
        await recordFailure(this.deps.db, {
          failureKey: writeBackFailureKey(data.integrationId, data.contactId),
          stage: 'sync',
          integrationId: data.integrationId,
          entityType: 'contact',
          entityId: data.contactId,
          errorKind: isConnectorError(error) ? error.kind : 'internal',
          errorCode: 'WRITE_BACK',
          errorMessage: `writing ${data.property}=${data.externalId} back to the CRM failed: ${(error as Error).message}`,
          errorDetails: isConnectorError(error) ? { status: error.status, body: error.body } : null,
          providerStatus: isConnectorError(error) ? (error.status ?? null) : null,
          attempts: job.attemptsMade + 1,
        });
        throw new UnrecoverableError((error as Error).message);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.stalled?.settled();
    await this.queue.close();
  }
}
