import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import { classifyUnknown, RetryableError } from '../errors.js';
import type { ClassifyOptions } from './error-table.js';
import type { BatchOperation, OperationOutcome } from './mailchimp-api.js';
import { mayHaveApplied } from './may-have-applied.js';
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
  /**
   * What an operation's 404 is, as for the direct call (error-table.ts): `permanent` unless
   * told, `retryable` where a member found by address alone may not be there yet.
   */
  notFound?: ClassifyOptions['notFound'];
}

/**
 * Operations as one batch operation run (POST /batches): one request instead of one each, which
 * at 8 requests/s turns hours into minutes. Mailchimp runs the batch on its side; its status is
 * read with a growing pause (each read is a request) until it is finished or `batchTimeoutMs`
 * passes, then the results archive gives each operation's answer, validated with `schema` and
 * classified as a direct answer would be. A failure of the run itself (the submit, a timeout, an
 * unreadable archive) becomes every operation's error, so the caller only sends runs of
 * operations whose retry is safe, or makes it safe (push-activities-bulk.ts: the retry looks
 * first). A run that is not followed to its end (a timeout, a status that cannot be read) is
 * cancelled; when that fails, or the submit's answer was lost, the errors say `mayStillApply`.
 * The outcomes come in the operations' order.
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
  const failAll = (error: unknown, mayStillApply: boolean): OperationOutcome<z.infer<S>>[] => {
    const classified = classifyUnknown(error);
    if (classified.kind === 'auth' || classified.kind === 'config') ctx.fatal ??= classified;
    return operations.map(() => ({
      ok: false,
      error: classified,
      ...(mayStillApply ? { mayStillApply } : {}),
    }));
  };

  let submitted: BatchStatus;
  try {
    submitted = await ctx.api.submitBatch(
      operations.map((operation, i) => ({ ...operation, operation_id: String(i) })),
    );
  } catch (error) {
    // A refusal, or a submit that never left, created no batch. Anything else may have.
    return failAll(error, mayHaveApplied(error));
  }
  let finished: BatchStatus;
  try {
    finished = await waitForBatch(ctx, submitted);
  } catch (error) {
    // Left running, it could apply its writes after the retries and newer writes have: an older
    // state over a newer one, a restore after the contact was archived again, a note twice.
    const cancelled = await ctx.api.cancelBatch(submitted.id).then(
      () => true,
      () => false,
    );
    return failAll(error, !cancelled);
  }
  try {
    if (!finished.response_body_url)
      throw new RetryableError(`Mailchimp's finished batch ${finished.id} has no results link`, {
        code: 'BATCH_RESULTS_UNREADABLE',
      });
    const byOperation = await ctx.api.batchOutcomes(finished.response_body_url, options.schema, {
      operation: options.operation,
      notFound: options.notFound ?? 'permanent',
    });
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
    // Finished: whatever it did is done, and a read now sees it.
    return failAll(error, false);
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
      throw new RetryableError(
        `Mailchimp's batch ${batch.id} was still ${current.status} after ${ctx.settings.batchTimeoutMs} ms (settings.batchTimeoutMs)`,
        { code: 'BATCH_TIMEOUT' },
      );
    }
    await delay(pause);
    pause = Math.min(MAX_POLL_MS, pause * 2);
    current = await ctx.api.batchStatus(batch.id);
  }
  return current;
}
