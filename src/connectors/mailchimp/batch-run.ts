import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import { classifyUnknown, RetryableError } from '../errors.js';
import type { BatchOperation, OperationOutcome } from './mailchimp-api.js';
import type { PushContext } from './push-context.js';
import type { BatchStatus } from './responses.js';

/** One operation of a run; its `operation_id` is its position, which is how outcomes come back. */
export type RunOperation = Omit<BatchOperation, 'operation_id'>;

export interface RunOptions<S extends z.ZodType> {
  /** What each successful answer must look like (validated as a direct answer would be). */
  schema: S;
  /** The operation's name in errors, e.g. `PATCH member`. */
  operation: string;
  /** What one operation is, for an answer the results leave out: "this member's update". */
  item: string;
}

/**
 * Operations as one batch operation run (POST /batches): one request instead of one each, which
 * at 8 requests/s turns hours into minutes. Mailchimp runs the batch on its side; its status is
 * read with a growing pause (each read is a request) until it is finished or `batchTimeoutMs`
 * passes, then the results archive gives each operation's answer, validated with `schema` and
 * classified as a direct answer would be. A failure of the run itself (the submit, a timeout, an
 * unreadable archive) becomes every operation's error, so the caller only sends runs of
 * operations whose retry is safe. The outcomes come in the operations' order.
 */
export async function runBatch<S extends z.ZodType>(
  ctx: PushContext,
  operations: readonly RunOperation[],
  options: RunOptions<S>,
): Promise<OperationOutcome<z.infer<S>>[]> {
  if (operations.length === 0) return [];
  // A rejected key or a missing audience: the run would fail the same way.
  const { fatal } = ctx;
  if (fatal) return operations.map(() => ({ ok: false, error: fatal }));
  try {
    const submitted = await ctx.api.submitBatch(
      operations.map((operation, i) => ({ ...operation, operation_id: String(i) })),
    );
    const finished = await waitForBatch(ctx, submitted);
    const byOperation = await ctx.api.batchOutcomes(
      finished.response_body_url,
      options.schema,
      options.operation,
    );
    return operations.map(
      (_, i): OperationOutcome<z.infer<S>> =>
        byOperation.get(String(i)) ?? {
          ok: false,
          error: new RetryableError(
            `Mailchimp's batch ${finished.id} results did not include ${options.item}`,
            {
              code: 'MISSING_FROM_ANSWER',
            },
          ),
        },
    );
  } catch (error) {
    const classified = classifyUnknown(error);
    if (classified.kind === 'auth' || classified.kind === 'config') ctx.fatal ??= classified;
    return operations.map(() => ({ ok: false, error: classified }));
  }
}

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 10_000;

async function waitForBatch(ctx: PushContext, batch: BatchStatus): Promise<BatchStatus> {
  const deadline = Date.now() + ctx.settings.batchTimeoutMs;
  let current = batch;
  let pause = FIRST_POLL_MS;
  while (current.status !== 'finished') {
    if (Date.now() + pause > deadline) {
      // Left running, it could apply its writes after the retries and newer writes have: an
      // older state over a newer one, or a restore after the contact was archived again.
      await ctx.api.cancelBatch(batch.id).catch(() => undefined);
      throw new RetryableError(
        `Mailchimp's batch ${batch.id} was still ${current.status} after ${ctx.settings.batchTimeoutMs} ms (settings.batchTimeoutMs)`,
        { code: 'BATCH_TIMEOUT' },
      );
    }
    await delay(pause);
    pause = Math.min(MAX_POLL_MS, pause * 2);
    current = await ctx.api.batchStatus(batch.id);
  }
  if (!current.response_body_url)
    throw new RetryableError(`Mailchimp's finished batch ${batch.id} has no results link`, {
      code: 'BATCH_RESULTS_UNREADABLE',
    });
  return current;
}
