import { z } from 'zod';
import { type ConnectorError, RetryableError } from '../errors.js';
import type { PushResult } from '../types.js';
import { type FoundActivity, findActivity, lookupPath, lookupQuery } from './activity-lookup.js';
import { type ActivityWrite, activityFailure, addedResult } from './activity-plan.js';
import { runBatch } from './batch-run.js';
import type { OperationOutcome } from './mailchimp-api.js';
import { type PushContext, settle } from './push-context.js';
import { MemberEventsAnswer, MemberNotesAnswer, NoteAnswer } from './responses.js';
import { runPool } from './run-pool.js';

interface Item {
  position: number;
  write: ActivityWrite;
}

/**
 * Many activities as batch operation runs instead of one call each (8 requests/s make an import
 * of 50,000 activities 1.7 hours): one run of the retried activities' look-ups (the first page of
 * each member's notes or events; further pages, rarely needed, as direct reads), then one run of
 * one POST …/notes or …/events per activity not found. Each record gets the result the direct
 * calls (push-activities.ts) would give it: `note:<id>` from the note's answer, `event:<id>`,
 * MEMBER_GONE for a linked member's 404 (after the one audience check), a found-by-address
 * member's 404 retried, compliance answers permanent, 5xx and rate limits retried.
 *
 * A note or event POST is not safe to retry blindly, and a run can fail with its outcome unknown
 * (after the submit: a status that cannot be read, a timeout, an unreadable archive; or an
 * operation the results leave out, or answered 5xx). Those records are not read back here: they
 * get a retryable error, and the engine marks their next attempt `retried` (any attempt after a
 * failed one), which looks before it posts. A read here would need the same look-first for when
 * it fails itself, so it would be a second road to the same answer; and the retry comes after a
 * backoff, when a run Mailchimp was still applying is more likely done. A run that may still
 * apply its operations (its submit's answer was lost, or it could not be cancelled) is retried
 * no sooner than `batchTimeoutMs`, the time a run is given anyway: looking while it still runs
 * would find nothing and post a second note or event next to the one it then adds.
 */
export async function addActivitiesInBulk(
  items: readonly Item[],
  ctx: PushContext,
): Promise<Map<number, PushResult>> {
  const { listId } = ctx.settings;
  const results = new Map<number, PushResult>();
  const fail = async ({ position, write }: Item, error: unknown) => {
    results.set(
      position,
      await settle(ctx, async () => {
        throw await activityFailure(ctx, write, error);
      }),
    );
  };

  const retried = items.filter(({ write }) => write.record.retried);
  const reads = await runBatch(
    ctx,
    retried.map(({ write }) => ({
      method: 'GET' as const,
      path: lookupPath(listId, write.ref, write.target),
      params: Object.fromEntries(
        Object.entries(lookupQuery(write.target, 0)).map(([name, value]) => [name, String(value)]),
      ),
    })),
    {
      schema: z.unknown(),
      operation: 'GET member notes or events',
      item: "this activity's look-up",
      notFound: 'retryable',
    },
  );
  const toPost = items.filter(({ write }) => !write.record.retried);
  await runPool(retried, async (item, i) => {
    try {
      const read =
        item.write.target.kind === 'note'
          ? checked(reads[i], MemberNotesAnswer, item.write, 'GET')
          : checked(reads[i], MemberEventsAnswer, item.write, 'GET');
      if (!read.ok) throw read.error;
      const found = await findActivity(ctx, item.write.ref, item.write.target, read.value);
      if (found) results.set(item.position, addedResult(item.write, found, ctx));
      else toPost.push(item);
    } catch (error) {
      await fail(item, error);
    }
  });
  toPost.sort((a, b) => a.position - b.position);

  const posts = await runBatch(
    ctx,
    toPost.map(({ write }) => ({
      method: 'POST' as const,
      path: `/lists/${listId}/members/${write.ref}/${write.send.kind === 'note' ? 'notes' : 'events'}`,
      body: JSON.stringify(write.send.kind === 'note' ? { note: write.send.text } : write.send.body),
    })),
    {
      schema: z.unknown(),
      operation: 'POST member note or event',
      item: "this activity's note or event",
      notFound: 'retryable',
    },
  );
  await runPool(toPost, async (item, i) => {
    const added = addedBy(posts[i], item.write);
    if (added.ok) results.set(item.position, addedResult(item.write, added.value, ctx));
    else await fail(item, added.mayStillApply ? unsettled(ctx, added.error) : added.error);
  });
  return results;
}

/** What a POST added, by its answer: the note, whose id is the link, or an event (204 No Content). */
function addedBy(
  outcome: OperationOutcome<unknown> | undefined,
  write: ActivityWrite,
): OperationOutcome<FoundActivity> {
  if (write.send.kind === 'event') {
    const post = checked(outcome, z.unknown(), write, 'POST');
    return post.ok ? { ok: true, value: { kind: 'event' } } : post;
  }
  const post = checked(outcome, NoteAnswer, write, 'POST');
  return post.ok ? { ok: true, value: { kind: 'note', id: post.value.id } } : post;
}

/** An operation's answer checked as the direct call's would be (runs mix notes and events). */
function checked<T>(
  outcome: OperationOutcome<unknown> | undefined,
  schema: z.ZodType<T>,
  write: ActivityWrite,
  method: 'GET' | 'POST',
): OperationOutcome<T> {
  if (!outcome) throw new Error('a batch run gave fewer outcomes than operations (a connector bug)');
  if (!outcome.ok) return outcome;
  const parsed = schema.safeParse(outcome.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const what = `${method} member ${write.send.kind === 'note' ? 'notes' : 'events'}`;
  return {
    ok: false,
    error: new RetryableError(`Mailchimp ${what} (in a batch) gave an answer of unexpected shape`, {
      code: 'UNEXPECTED_ANSWER',
    }),
  };
}

/**
 * The error of a post whose run may still add it. Not its status: a 404 of a status read is not
 * the member's, and must not read as MEMBER_GONE.
 */
function unsettled(ctx: PushContext, error: ConnectorError): ConnectorError {
  const { batchTimeoutMs } = ctx.settings;
  return new RetryableError(
    `${error.message} — the batch run may still add this note or event at Mailchimp, so it is looked for again (and added only if not found) no sooner than settings.batchTimeoutMs (${batchTimeoutMs} ms)`,
    {
      code: 'BATCH_RUN_UNSETTLED',
      retryAfterMs: Math.max(batchTimeoutMs, (error as { retryAfterMs?: number }).retryAfterMs ?? 0),
      cause: error,
    },
  );
}
