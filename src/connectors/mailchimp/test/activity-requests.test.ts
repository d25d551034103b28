import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../../../../test/helpers/recording-logger.js';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { RateLimitTimeoutError } from '../../../engine/rate-limit/errors.js';
import type { PushRecord } from '../../types.js';
import { crmEvent, errorResult, harness, okResult, record } from './fixtures.js';
import { fakeRun, KEY_A, LIST, mailchimp, md5, problem } from './nock-helpers.js';

useStrictNock();

/**
 * Activities (notes and events) have no idempotency key at Mailchimp: a retried one looks for
 * what its earlier attempt may have added before it adds it, and many go as batch runs.
 */
const emailOf = (i: number) => `m${i}@example.com`;
const linkOf = (i: number) => ({
  externalId: `cid_${i}`,
  state: {
    listId: LIST,
    memberId: `cid_${i}`,
    subscriberHash: md5(emailOf(i)),
    email: emailOf(i),
    status: 'subscribed',
    tags: [],
  },
});

/** Activity `id` of contact `i + 1` (linked as member cid_i); the CRM event is 10:30:00Z. */
const activity = (i: number, id: number, data: Record<string, unknown>, retried = false): PushRecord => ({
  ...record({
    operation: 'activity',
    entityType: 'activity',
    entityId: String(id),
    event: crmEvent('CRM_ACTIVITY_CREATED', {
      id,
      contactId: i + 1,
      occurredAt: '2026-11-22T09:15:00.000Z',
      ...data,
    }),
  }),
  ...(retried ? { retried: true } : {}),
});
const note = (i: number, id: number, content: string, retried = false) =>
  activity(i, id, { type: 'NOTE', content }, retried);
const call = (i: number, id: number, retried = false) => activity(i, id, { type: 'CALL' }, retried);

const callEvent = (id: number) => ({
  name: 'crm_call',
  properties: { crm_activity_id: String(id) },
  occurred_at: '2026-11-22T09:15:00.000Z',
  is_syncing: false,
});

const NOTES_QUERY = { sort_field: 'created_at', sort_dir: 'DESC', count: '1000', offset: '0' };
const notesPage = (notes: { id: number; note: string; created_at: string }[], total = notes.length) => ({
  notes: notes.map((n) => ({ ...n, created_by: 'API', list_id: LIST, email_id: 'x' })),
  total_items: total,
});
const eventsPage = (ids: number[], total = ids.length, name = 'crm_call') => ({
  events: ids.map((id) => ({
    name,
    properties: { crm_activity_id: String(id), content: 'x' },
    occurred_at: '2026-11-22T09:15:00+00:00',
  })),
  total_items: total,
});

function withLinks(members: number) {
  const h = harness({ listId: LIST }, KEY_A);
  for (let i = 0; i < members; i++) h.links.set(`contact:${i + 1}`, linkOf(i));
  return h;
}

describe('Mailchimp activities retried after a lost answer', () => {
  it('finds the note an earlier attempt added and adds none', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/notes`)
      .query(NOTES_QUERY)
      .reply(
        200,
        notesPage([
          { id: 52, note: 'Other note', created_at: '2026-11-22T10:31:09+00:00' },
          // Stored with its line break as \r\n and a trailing space: still the note sent.
          { id: 51, note: 'Prefers email\r\nnot calls ', created_at: '2026-11-22T10:31:02+00:00' },
        ]),
      );
    const h = withLinks(1);
    const [result] = await h.push([note(0, 70, 'Prefers email\nnot calls', true)]);
    expect(okResult(result)).toMatchObject({ externalId: 'note:51', state: { noteId: '51' } });
    expect(h.ctx.calls).toBe(1);
    scope.done();
  });

  it('adds the note when no note of that text was created since shortly before the CRM event', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/notes`)
      .query(NOTES_QUERY)
      // A full page whose oldest note predates the event by more than the margin: no page 2.
      .reply(
        200,
        notesPage(
          [
            ...Array.from({ length: 999 }, (_, n) => ({
              id: 2000 - n,
              note: `note ${n}`,
              created_at: '2026-11-22T10:40:00+00:00',
            })),
            // The same words a day before: another activity's note, not this one.
            { id: 7, note: 'Prefers email', created_at: '2026-11-21T10:31:02+00:00' },
          ],
          2500,
        ),
      )
      .post(`/3.0/lists/${LIST}/members/cid_0/notes`, { note: 'Prefers email' })
      .reply(200, { id: 3001, note: 'Prefers email' });
    const h = withLinks(1);
    const [result] = await h.push([note(0, 70, 'Prefers email', true)]);
    expect(okResult(result).externalId).toBe('note:3001');
    expect(h.ctx.calls).toBe(2);
    scope.done();
  });

  it('reads at most three pages of recent notes, then adds the note', async () => {
    const recent = (page: number) =>
      notesPage(
        Array.from({ length: 1000 }, (_, n) => ({
          id: 10_000 - page * 1000 - n,
          note: `note ${page}.${n}`,
          created_at: '2026-11-22T10:40:00+00:00',
        })),
        5000,
      );
    const scope = mailchimp();
    for (const page of [0, 1, 2])
      scope
        .get(`/3.0/lists/${LIST}/members/cid_0/notes`)
        .query({ ...NOTES_QUERY, offset: String(page * 1000) })
        .reply(200, recent(page));
    scope.post(`/3.0/lists/${LIST}/members/cid_0/notes`, { note: 'Prefers email' }).reply(200, { id: 9001 });
    const h = withLinks(1);
    const log = recordingLogger();
    h.ctx.logger = log.logger;
    const [result] = await h.push([note(0, 70, 'Prefers email', true)]);
    expect(okResult(result).externalId).toBe('note:9001');
    expect(h.ctx.calls).toBe(4);
    // Operators hear that the look stopped short of the member's older notes.
    expect(log.warnings()).toEqual([
      'a retried note was not found in the pages a look reads (the member has more notes): it is added, and may appear twice in Mailchimp',
    ]);
    expect(log.lines()[0]).toMatchObject({ member: 'cid_0', kind: 'note', pagesRead: 3, total: 5000 });
    scope.done();
  });

  it('takes one note for one of two identical retried notes, and adds the other', async () => {
    const page = notesPage([{ id: 51, note: 'Left a voicemail', created_at: '2026-11-22T10:31:02+00:00' }]);
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/notes`)
      .query(NOTES_QUERY)
      .times(2)
      .reply(200, page)
      .post(`/3.0/lists/${LIST}/members/cid_0/notes`, { note: 'Left a voicemail' })
      .reply(200, { id: 52, note: 'Left a voicemail' });
    const h = withLinks(1);
    const results = await h.push([
      note(0, 70, 'Left a voicemail', true),
      note(0, 71, 'Left a voicemail', true),
    ]);
    expect(results.map((r) => okResult(r).externalId).sort()).toEqual(['note:51', 'note:52']);
    scope.done();
  });

  it('finds the event by its name and crm_activity_id and adds none', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '0' })
      .reply(200, eventsPage([80, 81]));
    const h = withLinks(1);
    const [result] = await h.push([call(0, 81, true)]);
    expect(okResult(result)).toMatchObject({ externalId: 'event:81', state: { eventName: 'crm_call' } });
    expect(h.ctx.calls).toBe(1);
    scope.done();
  });

  it('reads both ends of a long event list (its order is not documented), then adds the event', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '0' })
      // Another event of the same activity id but another name (another prefix) is not it.
      .reply(200, eventsPage([1, 82], 2500, 'other_call'))
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '1500' })
      .reply(200, eventsPage([2, 3], 2500))
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '1000' })
      .reply(200, eventsPage([4], 2500))
      // Three pages read, at most: past them the event is added.
      .post(`/3.0/lists/${LIST}/members/cid_0/events`, callEvent(82))
      .reply(204);
    const h = withLinks(1);
    const log = recordingLogger();
    h.ctx.logger = log.logger;
    const [result] = await h.push([call(0, 82, true)]);
    expect(okResult(result).externalId).toBe('event:82');
    // 2,500 events are read whole in three pages: nothing was left unread, nothing to warn of.
    expect(log.warnings()).toEqual([]);
    scope.done();
  });

  it('finds an event on the last page when Mailchimp lists them oldest first', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '0' })
      .reply(200, eventsPage([1, 2], 1200))
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '200' })
      .reply(200, eventsPage([83], 1200));
    const h = withLinks(1);
    const [result] = await h.push([call(0, 83, true)]);
    expect(okResult(result).externalId).toBe('event:83');
    scope.done();
  });

  it('fails a retried activity of a deleted member as MEMBER_GONE, from its look-up', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0/events`)
      .query({ count: '1000', offset: '0' })
      .reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'))
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(200, { id: LIST, name: 'Newsletter' });
    const h = withLinks(1);
    const [result] = await h.push([call(0, 84, true)]);
    expect(errorResult(result)).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    scope.done();
  });
});

const noteOp = (i: number, operationId: number, text: string) => ({
  method: 'POST',
  path: `/lists/${LIST}/members/cid_${i}/notes`,
  body: JSON.stringify({ note: text }),
  operation_id: String(operationId),
});
const eventOp = (i: number, operationId: number, id: number) => ({
  method: 'POST',
  path: `/lists/${LIST}/members/cid_${i}/events`,
  body: JSON.stringify({
    name: 'crm_call',
    properties: { crm_activity_id: String(id) },
    occurred_at: '2026-11-22T09:15:00.000Z',
    is_syncing: false,
  }),
  operation_id: String(operationId),
});
const answered = (operationId: number, status: number, body?: unknown) => ({
  status_code: status,
  operation_id: String(operationId),
  response: body === undefined ? '' : JSON.stringify(body),
});

/** Ten activities of members 0–9: a note for even members, a call for odd ones. */
const ten = (retried = false) =>
  Array.from({ length: 10 }, (_, i) =>
    i % 2 === 0 ? note(i, 100 + i, `Note ${i}`, retried) : call(i, 100 + i, retried),
  );
const tenOps = () =>
  Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? noteOp(i, i, `Note ${i}`) : eventOp(i, i, 100 + i)));

describe('Mailchimp activities in batch runs', () => {
  it('sends batchUpdatesFrom activities as one run, each with the result a direct call gives', async () => {
    const scope = mailchimp();
    const run = await fakeRun(
      scope,
      'a1',
      tenOps(),
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0 ? answered(i, 200, { id: 500 + i }) : answered(i, 204),
      ),
    );
    const h = withLinks(10);
    const results = await h.push(ten());
    for (const [i, result] of results.entries())
      expect(okResult(result).externalId, `activity ${i}`).toBe(
        i % 2 === 0 ? `note:${500 + i}` : `event:${100 + i}`,
      );
    expect(okResult(results[0]).state).toMatchObject({
      listId: LIST,
      subscriberHash: md5(emailOf(0)),
      noteId: '500',
    });
    // The submit, one status read and the results: three requests instead of ten.
    expect(h.ctx.calls).toBe(3);
    scope.done();
    run.done();
  });

  it('splits per-activity errors out of the results, classified as the direct answers are', async () => {
    const records = [
      ...ten(),
      // A contact with no link, its member found by address: a 404 may be its sync on the way.
      activity(10, 110, { type: 'CALL', properties: { email: 'new@example.com' } }),
    ];
    const byAddress = {
      method: 'POST',
      path: `/lists/${LIST}/members/${md5('new@example.com')}/events`,
      body: JSON.stringify({
        name: 'crm_call',
        properties: { email: 'new@example.com', crm_activity_id: '110' },
        occurred_at: '2026-11-22T09:15:00.000Z',
        is_syncing: false,
      }),
      operation_id: '10',
    };
    const gone = problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    const scope = mailchimp();
    const run = await fakeRun(
      scope,
      'a2',
      [...tenOps(), byAddress],
      [
        answered(0, 200, { id: 500 }),
        answered(1, 404, gone),
        answered(2, 400, problem(400, 'Member In Compliance State', 'The member is unsubscribed.')),
        answered(3, 500, problem(500, 'Internal Server Error', 'An unexpected internal error has occurred.')),
        answered(4, 200, { note: 'no id' }),
        // 5 is left out of the results.
        ...[6, 7, 8, 9].map((i) => (i % 2 === 0 ? answered(i, 200, { id: 500 + i }) : answered(i, 204))),
        answered(10, 404, gone),
      ],
    );
    // Member 1's 404: the audience is read once, to tell a deleted member from a deleted audience.
    scope.get(`/3.0/lists/${LIST}`).query({ fields: 'id,name' }).reply(200, { id: LIST, name: 'Newsletter' });
    const h = withLinks(10);
    const results = await h.push(records);

    expect(okResult(results[0]).externalId).toBe('note:500');
    expect(errorResult(results[1])).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    expect(errorResult(results[2])).toMatchObject({ kind: 'permanent', code: 'Member In Compliance State' });
    expect(errorResult(results[3])).toMatchObject({ kind: 'retryable', status: 500 });
    expect(errorResult(results[4])).toMatchObject({ kind: 'retryable', code: 'UNEXPECTED_ANSWER' });
    expect(errorResult(results[5])).toMatchObject({ kind: 'retryable', code: 'MISSING_FROM_ANSWER' });
    for (const i of [6, 7, 8, 9]) okResult(results[i]);
    expect(errorResult(results[10])).toMatchObject({ kind: 'retryable', status: 404 });
    scope.done();
    run.done();
  });

  it('posts none of a lost run’s activities again when their retry finds them', async () => {
    const scope = mailchimp();
    // The run finished, but its results cannot be read: every outcome is unknown.
    const lost = await fakeRun(scope, 'a3', tenOps(), 'unreadable');
    const h = withLinks(10);
    const first = await h.push(ten());
    for (const result of first)
      expect(errorResult(result)).toMatchObject({ kind: 'retryable', code: 'BATCH_RESULTS_UNREADABLE' });
    scope.done();
    lost.done();

    // The retry (the engine marks it `retried`) reads each member's notes or events in one run,
    // finds every activity, and submits no second run of POSTs.
    const reads = await fakeRun(
      scope,
      'a4',
      Array.from({ length: 10 }, (_, i) => ({
        method: 'GET',
        path: `/lists/${LIST}/members/cid_${i}/${i % 2 === 0 ? 'notes' : 'events'}`,
        params: i % 2 === 0 ? NOTES_QUERY : { count: '1000', offset: '0' },
        operation_id: String(i),
      })),
      Array.from({ length: 10 }, (_, i) =>
        answered(
          i,
          200,
          i % 2 === 0
            ? notesPage([{ id: 500 + i, note: `Note ${i}`, created_at: '2026-11-22T10:31:00+00:00' }])
            : eventsPage([100 + i]),
        ),
      ),
    );
    const callsBefore = h.ctx.calls;
    const retry = await h.push(ten(true));
    for (const [i, result] of retry.entries())
      expect(okResult(result).externalId, `activity ${i}`).toBe(
        i % 2 === 0 ? `note:${500 + i}` : `event:${100 + i}`,
      );
    expect(h.ctx.calls - callsBefore).toBe(3);
    scope.done();
    reads.done();
  });

  it('posts, in one run, only the retried activities their look-ups did not find', async () => {
    const scope = mailchimp();
    const reads = await fakeRun(
      scope,
      'a5',
      Array.from({ length: 10 }, (_, i) => ({
        method: 'GET',
        path: `/lists/${LIST}/members/cid_${i}/${i % 2 === 0 ? 'notes' : 'events'}`,
        params: i % 2 === 0 ? NOTES_QUERY : { count: '1000', offset: '0' },
        operation_id: String(i),
      })),
      Array.from({ length: 10 }, (_, i) => {
        if (i === 2) return answered(i, 200, notesPage([]));
        if (i === 3) return answered(i, 200, eventsPage([]));
        return answered(
          i,
          200,
          i % 2 === 0
            ? notesPage([{ id: 500 + i, note: `Note ${i}`, created_at: '2026-11-22T10:31:00+00:00' }])
            : eventsPage([100 + i]),
        );
      }),
    );
    const posts = await fakeRun(
      scope,
      'a6',
      [noteOp(2, 0, 'Note 2'), eventOp(3, 1, 103)],
      [answered(0, 200, { id: 902 }), answered(1, 204)],
    );
    const h = withLinks(10);
    const results = await h.push(ten(true));
    expect(okResult(results[2]).externalId).toBe('note:902');
    expect(okResult(results[3]).externalId).toBe('event:103');
    expect(okResult(results[4]).externalId).toBe('note:504');
    scope.done();
    reads.done();
    posts.done();
  });

  it('cancels a run whose status cannot be read, and retries its activities at the usual pace', async () => {
    const scope = mailchimp()
      .post('/3.0/batches')
      .reply(200, { id: 'a7', status: 'pending' })
      .get('/3.0/batches/a7')
      .reply(503, problem(503, 'Service Unavailable', 'Try again later.'))
      // Stopped, so it cannot add a note its retry did not find when it looked.
      .delete('/3.0/batches/a7')
      .reply(204);
    const h = withLinks(10);
    const results = await h.push(ten());
    for (const result of results)
      expect(errorResult(result)).toMatchObject({ kind: 'retryable', status: 503, retryAfterMs: undefined });
    scope.done();
  });

  it('retries no sooner than batchTimeoutMs the activities of a run that may still apply them', async () => {
    const scope = mailchimp()
      // The submit's answer was lost: a run may exist, and there is no id to cancel it by.
      .post('/3.0/batches')
      .replyWithError('socket hang up');
    const h = harness({ listId: LIST, batchTimeoutMs: 120_000 }, KEY_A);
    for (let i = 0; i < 10; i++) h.links.set(`contact:${i + 1}`, linkOf(i));
    const results = await h.push(ten());
    for (const result of results)
      expect(errorResult(result)).toMatchObject({
        kind: 'retryable',
        code: 'BATCH_RUN_UNSETTLED',
        retryAfterMs: 120_000,
      });
    scope.done();
  });

  it('retries a direct note or event that got no answer no sooner than Mailchimp ends requests', async () => {
    const scope = mailchimp()
      // Lost on the way back: Mailchimp may have added it, or may still be adding it.
      .post(`/3.0/lists/${LIST}/members/cid_0/notes`, { note: 'Note 0' })
      .replyWithError('socket hang up')
      .post(`/3.0/lists/${LIST}/members/cid_1/events`, callEvent(101))
      .reply(503, problem(503, 'Service Unavailable', 'Try again later.'))
      // Refused, or never connected: nothing was added, so their retries need not wait.
      .post(`/3.0/lists/${LIST}/members/cid_2/notes`, { note: 'Note 2' })
      .reply(400, problem(400, 'Invalid Resource', 'The resource submitted could not be validated.'))
      .post(`/3.0/lists/${LIST}/members/cid_3/events`, callEvent(103))
      .replyWithError(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
      );
    const h = harness({ listId: LIST, batchUpdatesFrom: 0 }, KEY_A);
    for (let i = 0; i < 4; i++) h.links.set(`contact:${i + 1}`, linkOf(i));
    const results = await h.push(ten().slice(0, 4));
    expect(errorResult(results[0])).toMatchObject({ kind: 'retryable', retryAfterMs: 120_000 });
    expect(errorResult(results[0]).message).toMatch(/no sooner than 120000 ms from now/);
    expect(errorResult(results[1])).toMatchObject({ kind: 'retryable', status: 503, retryAfterMs: 120_000 });
    expect(errorResult(results[2])).toMatchObject({ kind: 'permanent', status: 400 });
    expect(errorResult(results[3])).toMatchObject({
      kind: 'retryable',
      code: 'ECONNREFUSED',
      retryAfterMs: undefined,
    });
    scope.done();
  });

  it('does not hold back the retry of a note the rate limiter never let leave', async () => {
    const h = harness({ listId: LIST, batchUpdatesFrom: 0 }, KEY_A);
    h.links.set('contact:1', linkOf(0));
    h.ctx.request = async () => {
      throw new RateLimitTimeoutError('MAILCHIMP:acme', 'no slot in the rate limit within 300000 ms');
    };
    const [result] = await h.push(ten().slice(0, 1));
    expect(errorResult(result)).toMatchObject({
      kind: 'retryable',
      code: 'RATE_LIMIT_TIMEOUT',
      retryAfterMs: undefined,
    });
  });

  it('retries at the usual pace the activities of a run whose submit never left', async () => {
    const h = harness({ listId: LIST, batchTimeoutMs: 120_000 }, KEY_A);
    for (let i = 0; i < 10; i++) h.links.set(`contact:${i + 1}`, linkOf(i));
    h.ctx.request = async () => {
      throw new RateLimitTimeoutError('MAILCHIMP:acme', 'no slot in the rate limit within 300000 ms');
    };
    const results = await h.push(ten());
    for (const result of results)
      expect(errorResult(result)).toMatchObject({
        kind: 'retryable',
        code: 'RATE_LIMIT_TIMEOUT',
        retryAfterMs: undefined,
      });
  });

  it('sends activities one call each below batchUpdatesFrom, or with batch runs off', async () => {
    const scope = mailchimp();
    for (let i = 0; i < 10; i++) {
      if (i % 2 === 0)
        scope
          .post(`/3.0/lists/${LIST}/members/cid_${i}/notes`, { note: `Note ${i}` })
          .reply(200, { id: 600 + i });
      else scope.post(`/3.0/lists/${LIST}/members/cid_${i}/events`, callEvent(100 + i)).reply(204);
    }
    const h = harness({ listId: LIST, batchUpdatesFrom: 0 }, KEY_A);
    for (let i = 0; i < 10; i++) h.links.set(`contact:${i + 1}`, linkOf(i));
    const results = await h.push(ten());
    for (const result of results) okResult(result);
    scope.done();
  });
});
