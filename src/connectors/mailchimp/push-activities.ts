import type { PushRecord, PushResult } from '../types.js';
import { findActivity } from './activity-lookup.js';
import { type ActivityWrite, activityFailure, addedResult, planActivity } from './activity-plan.js';
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
    if (write.send.kind === 'note') {
      const created = await ctx.api.addNote(write.ref, write.send.text);
      return addedResult(write, { kind: 'note', id: created.id }, ctx);
    }
    await ctx.api.addEvent(write.ref, write.send.body);
    return addedResult(write, { kind: 'event' }, ctx);
  } catch (error) {
    throw await activityFailure(ctx, write, error);
  }
}
