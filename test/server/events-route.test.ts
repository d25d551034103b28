import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import { jobIdFor } from '../../src/events/job-id.js';
import { createEventsQueue } from '../../src/ingest/event-jobs.js';
import { buildServer } from '../../src/server/build-server.js';
import { getFailure, listFailures } from '../../src/store/failures-repo.js';
import { markEventProcessed } from '../../src/store/processed-events-repo.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { createTestRedis, deletePrefix, testPrefix } from '../helpers/test-redis.js';
import { contactEvent } from '../ingest/fixtures.js';
import { serverContext } from './server-context.js';

const TOKEN = 'ingest-token-abcdef';

let t: TestDb;
let prefix: string;
let ctx: AppContext;
let app: FastifyInstance;
let queue: Queue;

const post = (payload: unknown, token = TOKEN) =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
const jobCount = async () => {
  const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
  return Object.values(counts).reduce((a, b) => a + b, 0);
};

beforeAll(async () => {
  t = await createTestDb();
  prefix = testPrefix('ingest-http');
  ({ ctx } = serverContext({
    DATABASE_URL: t.url,
    CRM_SYNC_QUEUE_PREFIX: prefix,
    CRM_SYNC_ADMIN_TOKEN: TOKEN,
  }));
  app = buildServer({ ctx });
  // A producer of the test's own to look into the queue the server fills.
  queue = createEventsQueue(ctx.redis(), prefix);
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  await ctx?.close();
  const redis = createTestRedis();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await t?.drop();
});

describe('POST /v1/events', () => {
  it('accepts one event and puts it on crm-events under its id', async () => {
    const res = await post(contactEvent('evt_single'));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: 1,
      duplicate: 0,
      rejected: 0,
      results: [{ index: 0, id: 'evt_single', status: 'accepted' }],
    });
    const job = await queue.getJob(jobIdFor('evt_single'));
    expect(job?.name).toBe('CRM_CONTACT_UPDATED');
    expect(job?.data).toEqual(contactEvent('evt_single'));
  });

  it('reports an event already on the queue, or already processed, as a duplicate', async () => {
    await markEventProcessed(t.db, 'evt_done', 'CRM_CONTACT_UPDATED');
    const before = await jobCount();
    const res = await post({ events: [contactEvent('evt_single'), contactEvent('evt_done')] });
    expect(res.statusCode).toBe(202);
    expect(res.json().results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(await jobCount()).toBe(before);
  });

  it('accepts the valid events of a mixed batch and dead-letters the malformed ones', async () => {
    const malformed = { ...contactEvent('evt_mixed_bad'), data: { id: 1, companies: [{ name: 'no id' }] } };
    const res = await post({
      events: [
        contactEvent('evt_mixed_1'),
        malformed,
        { ...contactEvent('evt_mixed_unknown'), type: 'CRM_DEAL_WON' },
        contactEvent('evt_mixed_1'),
        'not even an object',
        contactEvent('evt_mixed_2'),
      ],
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 3, duplicate: 1, rejected: 2 });
    expect(body.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'rejected',
      'accepted',
      'duplicate',
      'rejected',
      'accepted',
    ]);
    expect(body.results[1]).toMatchObject({
      index: 1,
      id: 'evt_mixed_bad',
      issues: [{ path: 'data.companies[0].id', message: expect.any(String) }],
      message: expect.stringContaining('data.companies[0].id'),
    });
    expect(body.results[4]).toMatchObject({ index: 4, id: null, status: 'rejected' });

    for (const id of ['evt_mixed_1', 'evt_mixed_unknown', 'evt_mixed_2']) {
      expect(await queue.getJob(jobIdFor(id)), id).toBeDefined();
    }
    const failure = await getFailure(t.db, body.results[1].failureId);
    expect(failure).toMatchObject({ failureKey: 'ingest:evt_mixed_bad', stage: 'ingest', event: malformed });
    const garbage = await getFailure(t.db, body.results[4].failureId);
    expect(garbage?.failureKey).toMatch(/^ingest:sha256:[0-9a-f]{32}$/);
    expect(garbage?.event).toBe('not even an object');
  });

  it('accepts a bare array of events', async () => {
    const res = await post([contactEvent('evt_array_1'), contactEvent('evt_array_2')]);
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toBe(2);
  });

  it('answers 400 with the path and message for a lone malformed event, and dead-letters it', async () => {
    const res = await post({ ...contactEvent('evt_lone_bad'), occurredAt: 'last tuesday' });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('invalid_event');
    expect(error.message).toMatch(/^invalid event evt_lone_bad \(CRM_CONTACT_UPDATED\): occurredAt: /);
    expect(error.details.issues).toEqual([{ path: 'occurredAt', message: expect.any(String) }]);
    expect((await getFailure(t.db, error.details.failureId))?.eventId).toBe('evt_lone_bad');
  });

  it('answers 400 naming the path when the body is not an event at all', async () => {
    const cases: [unknown, string][] = [
      ['hello', '(root)'],
      [42, '(root)'],
      [{ events: 'evt_1' }, 'events'],
      [{ events: [] }, 'events'],
      [[], '(root)'],
    ];
    for (const [payload, path] of cases) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const { error } = res.json();
      expect(error.code).toBe('invalid_body');
      expect(error.message.startsWith(`${path}: `), error.message).toBe(true);
      expect(error.details.issues[0].path).toBe(path);
    }
    expect((await listFailures(t.db)).filter((f) => f.event === 'hello')).toHaveLength(0);
  });

  it('takes 500 events at once and refuses 501 with 413, enqueueing none of them', async () => {
    const batch = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => contactEvent(`evt_${tag}_${i}`));
    const full = await post({ events: batch(500, 'full') });
    expect(full.statusCode).toBe(202);
    expect(full.json().accepted).toBe(500);

    const before = await jobCount();
    const tooMany = await post({ events: batch(501, 'over') });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json()).toEqual({
      error: {
        code: 'too_many_events',
        message: 'a request carries at most 500 events, this one has 501: split it',
      },
    });
    expect(await jobCount()).toBe(before);
  });

  it('refuses a request without the right token and enqueues nothing', async () => {
    const before = await jobCount();
    const wrong = await post(contactEvent('evt_unauthorised'), 'not-the-token');
    expect(wrong.statusCode).toBe(401);
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: contactEvent('evt_unauthorised'),
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('unauthorized');
    expect(await jobCount()).toBe(before);
  });
});
