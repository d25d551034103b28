import { RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { findActivity } from './activity-lookup.js';
import { type ActivityWrite, activityFailure, addedResult, planActivity } from './activity-plan.js';
import { mayHaveApplied } from './may-have-applied.js';
import { addActivitiesInBulk } from './push-activities-bulk.js';
import { failed, type PushContext, settle } from './push-context.js';
import { runPool } from './run-pool.js';

/**
 * CRM_ACTIVITY_CREATED records (activity-plan.ts says what each becomes). When at least
 * `batchUpdatesFrom` of them need a request (0: never), they go as batch runs
 * (push-activities-bulk.ts); otherwise one call each, a retried one reading first.
 */
export async function pushActivities(
  items: readonly { position: number; record: PushRecord }[],
  ctx: PushContext,
): Promise<Map<number, PushResult>> {
  const results = new Map<number, PushResult>();
  const writes: { position: number; write: ActivityWrite }[] = [];
  // All at once, not through the pool: planning sends nothing to Mailchimp, and the contacts'
  // link lookups made at the same moment share one query.
  await Promise.all(
    items.map(async ({ position, record }) => {
      try {
        const plan = await planActivity(record, ctx);
        if (plan.kind === 'done') results.set(position, plan.result);
        else writes.push({ position, write: plan.write });
      } catch (error) {
        results.set(position, failed(error));
      }
    }),
  );
  // Found concurrently; sent in the batch's order.
  writes.sort((a, b) => a.position - b.position);
  const { batchUpdatesFrom } = ctx.settings;
  if (batchUpdatesFrom > 0 && !ctx.fatal && writes.length >= batchUpdatesFrom) {
    for (const [position, result] of await addActivitiesInBulk(writes, ctx)) results.set(position, result);
    return results;
  }
  await runPool(writes, async ({ position, write }) => {
    results.set(position, await settle(ctx, () => addActivity(write, ctx)));
  });
  return results;
}

/**
 * One activity with direct calls. A retried one (an earlier attempt may have reached Mailchimp,
 * its answer lost) first looks for what that attempt would have added, and adds nothing when it
 * finds it; Mailchimp has no idempotency key that would make the second POST harmless.
 */
export async function addActivity(write: ActivityWrite, ctx: PushContext): Promise<PushResult> {
  try {
    if (write.record.retried) {
      const found = await findActivity(ctx, write.ref, write.target);
      if (found) return addedResult(write, found, ctx);
    }
    return await post(write, ctx);
  } catch (error) {
    throw await activityFailure(ctx, write, error);
  }
}

async function post(write: ActivityWrite, ctx: PushContext): Promise<PushResult> {
  try {
    if (write.send.kind === 'note') {
      const created = await ctx.api.addNote(write.ref, write.send.text);
      return addedResult(write, { kind: 'note', id: created.id }, ctx);
    }
    await ctx.api.addEvent(write.ref, write.send.body);
    return addedResult(write, { kind: 'event' }, ctx);
  } catch (error) {
    throw error instanceof RetryableError && mayHaveApplied(error) ? unanswered(error, ctx) : error;
  }
}

/**
 * The error of a POST that Mailchimp may still carry out (until `lostAnswerWaitMs`, 120 s by
 * default: Mailchimp ends a request it is still working on then). Looking for it sooner could
 * miss a write still under way, and add the activity twice. Counted from now, not from the
 * send: the send was no later than now, whatever the limiter's wait before it was.
 */
function unanswered(error: RetryableError, ctx: PushContext): RetryableError {
  const waitMs = Math.max(ctx.settings.lostAnswerWaitMs, error.retryAfterMs ?? 0);
  return new RetryableError(
    `${error.message} — Mailchimp may still add this note or event, so it is looked for again (and added only if not found) no sooner than ${waitMs} ms from now (settings.lostAnswerWaitMs)`,
    { code: error.code, status: error.status, body: error.body, retryAfterMs: waitMs },
  );
}
