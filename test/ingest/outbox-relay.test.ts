import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/events/job-id.js';
import { createOutboxRelay, type OutboxRelay } from '../../src/ingest/outbox-relay.js';
import { silentLogger } from '../../src/logging/logger.js';
import { eventsAcceptedTotal, eventsDuplicateTotal } from '../../src/metrics/ingest-metrics.js';
import { listFailures } from '../../src/store/failures-repo.js';
import { insertOutboxEvent } from '../../src/store/outbox-repo.js';
import { isEventProcessed } from '../../src/store/processed-events-repo.js';
import { type ConsumerRig, startConsumerRig } from '../helpers/consumer-rig.js';
import type { TestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';
import { contactEvent, counterValue } from './fixtures.js';

let rig: ConsumerRig;
let t: TestDb;
let redis: Redis;
let prefix: string;
let queue: Queue;
const handled: string[] = [];
const relays: OutboxRelay[] = [];

const relay = (options: { batchSize?: number; pollMs?: number } = {}) => {
  const r = createOutboxRelay({ db: t.db, queue, logger: silentLogger, ...options });
  relays.push(r);
  return r;
};
const outboxRows = async () =>
  (
    await t.db.query<{ id: number; attempts: number; last_error: string | null }>(
      'SELECT id, attempts, last_error FROM crm_sync.outbox ORDER BY id',
    )
  ).rows;
const timesHandled = (id: string) => handled.filter((h) => h === id).length;
/** Handled by the consumer: its claim in processed_events comes first, so both must hold. */
const waitUntilHandled = (ids: string[]) =>
  waitFor(`events ${ids.join(', ')} to be handled`, async () => {
    if (!ids.every((id) => timesHandled(id) >= 1)) return false;
    for (const id of ids) if (!(await isEventProcessed(t.db, id))) return false;
    return true;
  });
/** BullMQ writes a `duplicated` event to the queue's stream each time a job id is added again. */
const duplicatedJobIds = async () => {
  const entries = await redis.xrange(`${prefix}:crm-events:events`, '-', '+');
  return entries
    .map(([, fields]) =>
      Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : []))),
    )
    .filter((e) => e.event === 'duplicated')
    .map((e) => e.jobId as string);
};

beforeAll(async () => {
  rig = await startConsumerRig('outbox', {
    concurrency: 8,
    onEvent: async (event) => {
      handled.push(event.id);
    },
  });
  ({ t, redis, prefix, queue } = rig);
});

afterAll(async () => {
  for (const r of relays) await r.stop();
  await rig?.close();
});

describe('the outbox relay', () => {
  it('moves outbox rows to crm-events and deletes them', async () => {
    const ids = ['evt_ob_1', 'evt_ob_2', 'evt_ob_3'];
    for (const id of ids) await insertOutboxEvent(t.db, contactEvent(id));

    expect(await relay().runOnce()).toEqual({ published: 3, deadLettered: 0 });
    expect(await outboxRows()).toEqual([]);
    const job = await queue.getJob(jobIdFor('evt_ob_1'));
    expect(job?.name).toBe('CRM_CONTACT_UPDATED');
    await waitUntilHandled(ids);
    expect(ids.map(timesHandled)).toEqual([1, 1, 1]);
  });

  it('dead-letters malformed rows and deletes them, so they never block the rows behind', async () => {
    const noIdRow = await insertOutboxEvent(t.db, { type: 'CRM_CONTACT_UPDATED', data: {} });
    await insertOutboxEvent(t.db, { ...contactEvent('evt_ob_bad'), organizationId: null });
    await insertOutboxEvent(t.db, contactEvent('evt_ob_good'));

    expect(await relay().runOnce()).toEqual({ published: 1, deadLettered: 2 });
    expect(await outboxRows()).toEqual([]);
    const failures = await listFailures(t.db, { stage: 'ingest' });
    expect(failures.map((f) => f.failureKey).sort()).toEqual([
      `ingest:evt_ob_bad`,
      `ingest:outbox:${noIdRow}`,
    ]);
    expect(failures.find((f) => f.eventId === 'evt_ob_bad')?.errorDetails).toEqual([
      { path: 'organizationId', message: expect.any(String) },
    ]);
    await waitUntilHandled(['evt_ob_good']);
  });

  it('loses and doubles nothing when it crashes between the enqueue and the delete', async () => {
    // The DELETE fails once, after addBulk succeeded: what a relay crash at that point leaves behind.
    await t.db.query(`
      CREATE SEQUENCE test_delete_calls;
      CREATE FUNCTION test_crash_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('test_delete_calls') = 1 THEN RAISE EXCEPTION 'simulated crash before the delete'; END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER test_crash_on_delete BEFORE DELETE ON crm_sync.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION test_crash_on_delete();`);
    const ids = ['evt_crash_1', 'evt_crash_2', 'evt_crash_3'];
    for (const id of ids) await insertOutboxEvent(t.db, contactEvent(id));
    const r = relay();

    await expect(r.runOnce()).rejects.toThrow('simulated crash before the delete');
    const left = await outboxRows();
    expect(left).toHaveLength(3);
    expect(left.every((row) => row.attempts === 1 && row.last_error?.includes('simulated crash'))).toBe(true);
    await waitUntilHandled(ids);
    // Completed jobs leave Redis at once (CRM_EVENT_JOB_OPTIONS): the processed-events record
    // alone must catch the second publication.
    await waitFor('the first jobs to leave Redis', async () => {
      const states = await Promise.all(ids.map((id) => queue.getJobState(jobIdFor(id))));
      return states.every((state) => state === 'unknown');
    });
    const duplicatesBefore = await counterValue(eventsDuplicateTotal, { via: 'queue' });
    expect(await r.runOnce()).toEqual({ published: 3, deadLettered: 0 });
    expect(await outboxRows()).toEqual([]);

    await waitFor('the re-published events to be recognised as duplicates', async () => {
      return (await counterValue(eventsDuplicateTotal, { via: 'queue' })) === duplicatesBefore + 3;
    });
    expect(ids.map(timesHandled)).toEqual([1, 1, 1]);
    await t.db.query('DROP TRIGGER test_crash_on_delete ON crm_sync.outbox');
  });

  it('shares the outbox between two relays running side by side, publishing each row once', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `evt_par_${i}`);
    for (const id of ids) await insertOutboxEvent(t.db, contactEvent(id));
    const duplicatesBefore = (await duplicatedJobIds()).length;
    const consumedTwiceBefore = await counterValue(eventsDuplicateTotal, { via: 'queue' });
    const acceptedBefore = await counterValue(eventsAcceptedTotal, { via: 'outbox' });

    const a = relay({ batchSize: 20, pollMs: 5 });
    const b = relay({ batchSize: 20, pollMs: 5 });
    a.start();
    b.start();
    await waitFor('the outbox to drain', async () => (await outboxRows()).length === 0);
    await Promise.all([a.stop(), b.stop()]);

    expect(await counterValue(eventsAcceptedTotal, { via: 'outbox' })).toBe(acceptedBefore + 300);
    expect((await duplicatedJobIds()).length).toBe(duplicatesBefore);
    await waitUntilHandled(ids);
    expect(ids.every((id) => timesHandled(id) === 1)).toBe(true);
    // A row published twice after its first job completed would have come back as a duplicate here.
    expect(await counterValue(eventsDuplicateTotal, { via: 'queue' })).toBe(consumedTwiceBefore);
  });

  it('picks up rows the CRM inserts while it idles', async () => {
    const r = relay({ pollMs: 5 });
    r.start();
    await insertOutboxEvent(t.db, contactEvent('evt_late'));
    await waitUntilHandled(['evt_late']);
    await r.stop();
    expect(await outboxRows()).toEqual([]);
  });

  it('finishes the batch in progress before stop() resolves', async () => {
    // A slow DELETE keeps the batch's transaction open while stop() is called.
    await t.db.query(`
      CREATE FUNCTION test_slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
      CREATE TRIGGER test_slow_delete BEFORE DELETE ON crm_sync.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION test_slow_delete();`);
    await insertOutboxEvent(t.db, contactEvent('evt_stop'));
    const r = relay({ pollMs: 5 });
    r.start();
    // Handled means enqueued; the job itself may already be gone (removed once completed).
    await waitFor('the batch to be enqueued', async () => timesHandled('evt_stop') === 1);
    await r.stop();
    expect(await outboxRows()).toEqual([]);
    await t.db.query('DROP TRIGGER test_slow_delete ON crm_sync.outbox');
  });
});
