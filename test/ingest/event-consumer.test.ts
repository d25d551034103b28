import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmEvent } from '../../src/events/envelope.js';
import { jobIdFor } from '../../src/events/job-id.js';
import { publishCrmEvent } from '../../src/events/publish.js';
import type { EventConsumer, EventMeta } from '../../src/ingest/event-consumer.js';
import { eventsDuplicateTotal, eventsUnknownTotal } from '../../src/metrics/ingest-metrics.js';
import { listFailures } from '../../src/store/failures-repo.js';
import { claimEvents, isEventProcessed } from '../../src/store/processed-events-repo.js';
import { type ConsumerRig, startConsumerRig } from '../helpers/consumer-rig.js';
import type { TestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';
import { contactEvent, counterValue } from './fixtures.js';

let rig: ConsumerRig;
let t: TestDb;
let queue: Queue;
let consumer: EventConsumer;
/** Every call the handler received, in order. */
const calls: { event: CrmEvent; meta: EventMeta }[] = [];
/** Per event id: what the handler does on a given attempt (throwing makes the attempt fail). */
const behaviour = new Map<string, (attempt: number) => void>();

/** How many times each job id completed: completed jobs are removed at once (CRM_EVENT_JOB_OPTIONS). */
const completions = new Map<string, number>();

const callsFor = (id: string) => calls.filter((c) => c.event.id === id);
const stateOf = (jobId: string) => queue.getJobState(jobId);
const waitForState = (jobId: string, state: string) =>
  waitFor(`job ${jobId} to be ${state}`, async () => (await stateOf(jobId)) === state);
const waitForCompletion = (jobId: string, times = 1) =>
  waitFor(`job ${jobId} to complete ${times} time(s)`, async () => (completions.get(jobId) ?? 0) >= times);

beforeAll(async () => {
  rig = await startConsumerRig('consumer', {
    retry: { attempts: 3, backoffMs: 5, maxDelayMs: 20 },
    onEvent: async (event, meta) => {
      calls.push({ event, meta });
      behaviour.get(event.id)?.(meta.attempt);
    },
  });
  ({ t, queue, consumer } = rig);
  consumer.worker.on('completed', (job) => {
    completions.set(job.id!, (completions.get(job.id!) ?? 0) + 1);
  });
});

afterAll(async () => {
  await rig?.close();
});

describe('the crm-events consumer', () => {
  it('hands a valid event to the handler once and records its id as processed', async () => {
    const { jobId } = await publishCrmEvent(queue, contactEvent('evt_valid'));
    await waitForCompletion(jobId);
    expect(await stateOf(jobId)).toBe('unknown');
    expect(callsFor('evt_valid')).toHaveLength(1);
    const [call] = callsFor('evt_valid');
    expect(call!.event.organizationId).toBe('org_1');
    expect(call!.meta).toMatchObject({ jobId, attempt: 1 });
    expect(await isEventProcessed(t.db, 'evt_valid')).toBe(true);
  });

  it('dead-letters a malformed event with its zod path and message and keeps consuming', async () => {
    const malformed = { ...contactEvent('evt_bad'), occurredAt: 'yesterday' };
    await queue.add('CRM_CONTACT_UPDATED', malformed, { jobId: 'bad-job-1' });
    const { jobId } = await publishCrmEvent(queue, contactEvent('evt_after_bad'));

    await waitForCompletion(jobId);
    await waitForCompletion('bad-job-1');
    expect(callsFor('evt_bad')).toHaveLength(0);
    expect(callsFor('evt_after_bad')).toHaveLength(1);

    const failures = (await listFailures(t.db, { stage: 'ingest' })).filter((f) => f.eventId === 'evt_bad');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      failureKey: 'ingest:evt_bad',
      errorKind: 'validation',
      errorCode: 'invalid_event',
      status: 'open',
      event: malformed,
    });
    expect(failures[0]!.errorDetails).toEqual([{ path: 'occurredAt', message: expect.any(String) }]);
    expect(failures[0]!.errorMessage).toMatch(/^invalid event evt_bad \(CRM_CONTACT_UPDATED\): occurredAt: /);
  });

  it('keys a malformed event without an id by its job id', async () => {
    await queue.add('garbage', { hello: 'world' }, { jobId: 'garbage-job' });
    await waitForCompletion('garbage-job');
    const [failure] = (await listFailures(t.db)).filter((f) => f.failureKey === 'ingest:garbage-job');
    expect(failure?.errorDetails).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'id' }),
        expect.objectContaining({ path: 'type' }),
      ]),
    );
  });

  it('skips an event whose id was already processed, its job long removed', async () => {
    const before = await counterValue(eventsDuplicateTotal, { via: 'queue' });
    const first = await publishCrmEvent(queue, contactEvent('evt_dup'));
    await waitForCompletion(first.jobId);
    // The job is gone from Redis; the CRM publishes the same event again.
    const again = await publishCrmEvent(queue, contactEvent('evt_dup'));
    await waitForCompletion(again.jobId, 2);

    expect(callsFor('evt_dup')).toHaveLength(1);
    expect(await counterValue(eventsDuplicateTotal, { via: 'queue' })).toBe(before + 1);
  });

  it('acknowledges and counts an event of an unknown type without calling the handler', async () => {
    const unknown = { ...contactEvent('evt_unknown'), type: 'CRM_DEAL_WON' };
    await queue.add('CRM_DEAL_WON', unknown, { jobId: jobIdFor('evt_unknown') });
    await waitForCompletion(jobIdFor('evt_unknown'));

    expect(await counterValue(eventsUnknownTotal, { type: 'CRM_DEAL_WON' })).toBe(1);
    expect(callsFor('evt_unknown')).toHaveLength(0);
    expect((await listFailures(t.db)).filter((f) => f.eventId === 'evt_unknown')).toHaveLength(0);
  });

  it('retries a job whose handler threw and records the event once it went through', async () => {
    behaviour.set('evt_flaky', (attempt) => {
      if (attempt < 3) throw new Error(`router unavailable (attempt ${attempt})`);
    });
    const { jobId } = await publishCrmEvent(queue, contactEvent('evt_flaky'));
    await waitForCompletion(jobId);

    expect(callsFor('evt_flaky').map((c) => c.meta.attempt)).toEqual([1, 2, 3]);
    expect(await isEventProcessed(t.db, 'evt_flaky')).toBe(true);
    expect((await listFailures(t.db)).filter((f) => f.eventId === 'evt_flaky')).toHaveLength(0);
  });

  it('dead-letters an event whose handler still fails at the last attempt, without its secrets', async () => {
    behaviour.set('evt_doomed', () => {
      throw new Error('router down: Authorization: Bearer s3cr3t-token');
    });
    const { jobId } = await publishCrmEvent(queue, contactEvent('evt_doomed'));
    await waitForState(jobId, 'failed');

    expect(callsFor('evt_doomed')).toHaveLength(3);
    expect(await isEventProcessed(t.db, 'evt_doomed')).toBe(false);
    const [failure] = (await listFailures(t.db)).filter((f) => f.eventId === 'evt_doomed');
    expect(failure).toMatchObject({
      failureKey: 'ingest:evt_doomed',
      errorKind: 'internal',
      errorCode: 'handler_failed',
      attempts: 3,
    });
    expect(failure!.errorMessage).toContain('gave up after 3 attempts: router down');
    expect(failure!.errorMessage).not.toContain('s3cr3t-token');

    // Given up on, its claim is released: once the failed job is cleared, publishing it again routes it.
    await (await queue.getJob(jobId))!.remove();
    behaviour.delete('evt_doomed');
    const again = await publishCrmEvent(queue, contactEvent('evt_doomed'));
    await waitForCompletion(again.jobId);
    expect(callsFor('evt_doomed')).toHaveLength(4);
    expect(await isEventProcessed(t.db, 'evt_doomed')).toBe(true);
  });

  it('routes again an event whose own job claimed it and then died before completing', async () => {
    // What a crash after the claim leaves: the claim, and the same job back in the queue
    // (a stalled job is moved back with its id and creation time).
    const jobId = jobIdFor('evt_crashed');
    const timestamp = Date.now() - 60_000;
    await claimEvents(t.db, [
      { eventId: 'evt_crashed', eventType: 'CRM_CONTACT_UPDATED', delivery: `${jobId}@${timestamp}` },
    ]);
    await queue.add('CRM_CONTACT_UPDATED', contactEvent('evt_crashed'), { jobId, timestamp });
    await waitForCompletion(jobId);
    expect(callsFor('evt_crashed')).toHaveLength(1);
  });

  it('dead-letters an event BullMQ failed because its workers kept dying on it, and releases its claim', async () => {
    await queue.pause();
    const { jobId } = await publishCrmEvent(queue, contactEvent('evt_poison'));
    const job = (await queue.getJob(jobId))!;
    // What two crashes leave: the first run's claim, and BullMQ's stalled checker's verdict on the job.
    await claimEvents(t.db, [
      { eventId: 'evt_poison', eventType: 'CRM_CONTACT_UPDATED', delivery: `${jobId}@${job.timestamp}` },
    ]);
    await rig.redis.hset(
      `${rig.prefix}:crm-events:${jobId}`,
      'defa',
      'job stalled more than allowable limit',
    );
    await queue.resume();

    const failure = await waitFor('the dead letter', async () =>
      (await listFailures(t.db)).find((f) => f.eventId === 'evt_poison'),
    );
    expect(failure).toMatchObject({
      failureKey: 'ingest:evt_poison',
      stage: 'ingest',
      errorKind: 'internal',
      errorCode: 'stalled',
      status: 'open',
    });
    expect(failure.errorMessage).toContain('job stalled more than allowable limit');
    expect(await stateOf(jobId)).toBe('failed');
    expect(callsFor('evt_poison')).toHaveLength(0);
    await waitFor('the claim released', async () => !(await isEventProcessed(t.db, 'evt_poison')));
  });

  it('skips an event claimed by another delivery while that one is still being handled', async () => {
    const before = await counterValue(eventsDuplicateTotal, { via: 'queue' });
    await claimEvents(t.db, [
      { eventId: 'evt_elsewhere', eventType: 'CRM_CONTACT_UPDATED', delivery: 'other-job@1' },
    ]);
    const { jobId } = await publishCrmEvent(queue, contactEvent('evt_elsewhere'));
    await waitForCompletion(jobId);
    expect(callsFor('evt_elsewhere')).toHaveLength(0);
    expect(await counterValue(eventsDuplicateTotal, { via: 'queue' })).toBe(before + 1);
  });
});
