import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, errorResult, harness, okResult, record } from './fixtures.js';
import { fakeRun, KEY_A, LIST, mailchimp, md5, memberAnswer, problem } from './nock-helpers.js';

useStrictNock();

const emailOf = (i: number) => `m${i}@example.com`;

/** A tag event of linked member i, whose link owns `owned` and last saw it as `status`. */
const tagEvent = (
  i: number,
  type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED',
  tag: string,
  owned: string[] = [],
  status = 'subscribed',
  extra: Record<string, unknown> = {},
) =>
  record({
    operation: type === 'CRM_CONTACT_TAG_ADDED' ? 'tag_add' : 'tag_remove',
    event: crmEvent(type, { ...contact(i + 1, emailOf(i)), tag }),
    entityId: String(i + 1),
    externalId: `cid_${i}`,
    state: {
      listId: LIST,
      memberId: `cid_${i}`,
      subscriberHash: md5(emailOf(i)),
      email: emailOf(i),
      status,
      tags: owned,
      ...extra,
    },
  });
const added = (i: number, tag: string, owned: string[] = []) =>
  tagEvent(i, 'CRM_CONTACT_TAG_ADDED', tag, owned);
const removed = (i: number, tag: string, owned: string[] = []) =>
  tagEvent(i, 'CRM_CONTACT_TAG_REMOVED', tag, owned);

const readOp = (i: number, operationId: number) => ({
  method: 'GET',
  path: `/lists/${LIST}/members/cid_${i}`,
  params: { fields: 'id,status,tags' },
  operation_id: String(operationId),
});
const tagsOp = (i: number, operationId: number, tags: { name: string; status: string }[]) => ({
  method: 'POST',
  path: `/lists/${LIST}/members/cid_${i}/tags`,
  body: JSON.stringify({ tags }),
  operation_id: String(operationId),
});

const answered = (operationId: number, status: number, body?: unknown) => ({
  status_code: status,
  operation_id: String(operationId),
  response: body === undefined ? '' : JSON.stringify(body),
});
const read = (operationId: number, i: number, tags: string[] = [], status = 'subscribed') =>
  answered(operationId, 200, { id: md5(emailOf(i)), status, tags: tags.map((name, id) => ({ id, name })) });
const GONE = problem(404, 'Resource Not Found', 'The requested resource could not be found.');

const VIP = [{ name: 'vip', status: 'active' }];

describe('Mailchimp tag events in batch runs', () => {
  it('reads the members in one run and sends each member’s tag changes in another, with today’s per-record results', async () => {
    const records = [
      ...Array.from({ length: 12 }, (_, i) => added(i, 'vip')),
      removed(12, 'webinar', ['vip']),
      added(13, 'vip', ['vip']),
      // Member 0's later events: applied on top of its first, the later winning for "vip".
      added(0, 'Beta'),
      removed(0, 'VIP'),
    ];
    const scope = mailchimp();
    const reads = await fakeRun(
      scope,
      'r1',
      Array.from({ length: 12 }, (_, i) => readOp(i, i)),
      Array.from({ length: 12 }, (_, i) => {
        if (i === 3) return read(i, i, ['VIP', 'webinar']);
        if (i === 5) return answered(i, 404, GONE);
        if (i === 7) return read(i, i, [], 'archived');
        return read(i, i, ['webinar']);
      }),
    );
    // The 404s: the audience is read once, to tell a deleted member from a deleted audience.
    scope.get(`/3.0/lists/${LIST}`).query({ fields: 'id,name' }).reply(200, { id: LIST, name: 'Newsletter' });
    const writtenTo = [0, 1, 2, 4, 6, 8, 9, 10, 11, 13];
    const writes = await fakeRun(
      scope,
      'w1',
      writtenTo.map((i, op) =>
        tagsOp(
          i,
          op,
          i === 0
            ? [
                { name: 'Beta', status: 'active' },
                { name: 'VIP', status: 'inactive' },
              ]
            : VIP,
        ),
      ),
      writtenTo.map((i, op) => (i === 9 || i === 11 ? answered(op, 404, GONE) : answered(op, 204))),
    );
    // The 404s of the tags POSTs: read again, to tell a deleted member from one marketing archived.
    const checks = await fakeRun(
      scope,
      'c1',
      [readOp(9, 0), readOp(11, 1)],
      [answered(0, 404, GONE), read(1, 11, [], 'archived')],
    );

    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push(records);

    for (const i of [1, 2, 4, 6, 8, 10, 13])
      expect(okResult(results[i]).state, `member ${i}`).toMatchObject({
        memberId: `cid_${i}`,
        tags: ['vip'],
      });
    // Member 0's three events all report its final state.
    for (const position of [0, 14, 15]) expect(okResult(results[position]).state?.tags).toEqual(['Beta']);
    expect(results[3]).toEqual({
      status: 'skipped',
      reason:
        'tag "vip" is already on the member, set outside the CRM: it stays theirs, and the CRM will not remove it',
    });
    expect(h.links.has('contact:4')).toBe(false);
    expect(errorResult(results[5])).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    expect(results[7]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('is archived') });
    expect(errorResult(results[9])).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    expect(results[11]).toEqual({
      status: 'skipped',
      reason: `the member ${emailOf(11)} is archived in Mailchimp, which takes no tag changes; the CRM's tags follow when it is back`,
    });
    expect(h.links.has('contact:12')).toBe(false);
    expect(results[12]).toEqual({
      status: 'skipped',
      reason: 'tag "webinar" was not set by the CRM, so it is left as it is',
    });
    // Three runs of three requests and the audience read, instead of 12 reads and 13 tag calls.
    expect(h.ctx.calls).toBe(10);
    scope.done();
    reads.done();
    writes.done();
    checks.done();
  });

  it('gives every record a retryable error when a run fails as a whole', async () => {
    const scope = mailchimp()
      .post('/3.0/batches', { operations: Array.from({ length: 10 }, (_, i) => readOp(i, i)) })
      .reply(500, problem(500, 'Internal Server Error', 'An unexpected internal error has occurred.'));
    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push(Array.from({ length: 10 }, (_, i) => added(i, 'vip')));
    for (const result of results) expect(errorResult(result)).toMatchObject({ kind: 'retryable' });
    expect(h.ctx.calls).toBe(1);
    scope.done();
  });

  it('sends tag changes that need no read without a read run', async () => {
    const scope = mailchimp();
    const writes = await fakeRun(
      scope,
      'w2',
      [tagsOp(0, 0, VIP), tagsOp(1, 1, [{ name: 'vip', status: 'inactive' }])],
      [answered(0, 204), answered(1, 204)],
    );
    const h = harness({ listId: LIST, batchUpdatesFrom: 2 }, KEY_A);
    const results = await h.push([added(0, 'vip', ['vip']), removed(1, 'vip', ['vip'])]);
    expect(okResult(results[0]).state?.tags).toEqual(['vip']);
    expect(okResult(results[1]).state?.tags).toEqual([]);
    scope.done();
    writes.done();
  });

  it('keeps direct calls below batchUpdatesFrom, not counting removals that need no request', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_0/tags`, { tags: VIP })
      .reply(204)
      .post(`/3.0/lists/${LIST}/members/cid_1/tags`, { tags: VIP })
      .reply(204);
    const h = harness({ listId: LIST, batchUpdatesFrom: 3 }, KEY_A);
    const results = await h.push([
      added(0, 'vip', ['vip']),
      added(1, 'vip', ['vip']),
      removed(2, 'webinar'),
      removed(3, 'webinar'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'skipped', 'skipped']);
    scope.done();
  });

  it('sends an archived member no tag change, even with direct calls (Mailchimp would answer 404)', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0`)
      .query(true)
      .reply(200, memberAnswer(emailOf(0), { contact_id: 'cid_0', status: 'archived' }));
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([tagEvent(0, 'CRM_CONTACT_TAG_REMOVED', 'vip', ['vip'], 'archived')]);
    expect(result).toMatchObject({ status: 'skipped', reason: expect.stringContaining('is archived') });
    expect(h.ctx.calls).toBe(1);
    scope.done();
  });
  it('reads the members again when a tags run failed as a whole, and keeps what it finds in effect', async () => {
    const records = [...Array.from({ length: 10 }, (_, i) => added(i, 'vip')), removed(10, 'old', ['old'])];
    const scope = mailchimp();
    const reads = await fakeRun(
      scope,
      'r1',
      Array.from({ length: 10 }, (_, i) => readOp(i, i)),
      Array.from({ length: 10 }, (_, i) => read(i, i)),
    );
    // Mailchimp ran the POSTs, but their results cannot be read.
    const writes = await fakeRun(
      scope,
      'w1',
      [
        ...Array.from({ length: 10 }, (_, i) => tagsOp(i, i, VIP)),
        tagsOp(10, 10, [{ name: 'old', status: 'inactive' }]),
      ],
      'unreadable',
    );
    const checks = await fakeRun(
      scope,
      'c1',
      Array.from({ length: 11 }, (_, i) => readOp(i, i)),
      Array.from({ length: 11 }, (_, i) => {
        if (i === 8) return read(i, i, ['webinar']);
        if (i === 9) return answered(i, 503, problem(503, 'Service Unavailable', 'Try again.'));
        if (i === 10) return read(i, i, ['webinar']);
        return read(i, i, ['VIP']);
      }),
    );

    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push(records);

    // The tag is there: the CRM's own write put it there, so the CRM owns it.
    for (let i = 0; i < 8; i++) {
      expect(okResult(results[i]).state?.tags, `member ${i}`).toEqual(['vip']);
      expect(h.links.get(`contact:${i + 1}`)?.state.tags).toEqual(['vip']);
    }
    expect(okResult(results[10]).state?.tags).toEqual([]);
    // Not in effect, or the read failed: the write's own error, retried.
    for (const i of [8, 9])
      expect(errorResult(results[i]), `member ${i}`).toMatchObject({
        kind: 'retryable',
        code: 'BATCH_RESULTS_UNREADABLE',
      });
    scope.done();
    reads.done();
    writes.done();
    checks.done();
  });

  it('keeps the retryable errors when the read after a failed tags run fails too', async () => {
    const scope = mailchimp();
    const writes = await fakeRun(
      scope,
      'w1',
      Array.from({ length: 10 }, (_, i) => tagsOp(i, i, VIP)),
      'unreadable',
    );
    scope
      .post('/3.0/batches', { operations: Array.from({ length: 10 }, (_, i) => readOp(i, i)) })
      .reply(500, problem(500, 'Internal Server Error', 'An unexpected internal error has occurred.'));
    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push(Array.from({ length: 10 }, (_, i) => added(i, 'vip', ['vip'])));
    for (const result of results)
      expect(errorResult(result)).toMatchObject({ kind: 'retryable', code: 'BATCH_RESULTS_UNREADABLE' });
    expect(h.links.size).toBe(0);
    scope.done();
    writes.done();
  });

  it('reads the member after a direct tags call with an unknown outcome, never after a refusal', async () => {
    const scope = mailchimp()
      // Member 0: a 500, but the tag is there afterwards.
      .get(`/3.0/lists/${LIST}/members/cid_0`)
      .query(true)
      .reply(200, memberAnswer(emailOf(0), { contact_id: 'cid_0', tags: [] }))
      .post(`/3.0/lists/${LIST}/members/cid_0/tags`, { tags: VIP })
      .reply(500, problem(500, 'Internal Server Error', 'An unexpected internal error has occurred.'))
      .get(`/3.0/lists/${LIST}/members/cid_0`)
      .query(true)
      .reply(200, memberAnswer(emailOf(0), { contact_id: 'cid_0', tags: [{ id: 1, name: 'VIP' }] }))
      // Member 1: the connection dropped, and the tag is not there.
      .post(`/3.0/lists/${LIST}/members/cid_1/tags`, { tags: VIP })
      .replyWithError('socket hang up')
      .get(`/3.0/lists/${LIST}/members/cid_1`)
      .query(true)
      .reply(200, memberAnswer(emailOf(1), { contact_id: 'cid_1', tags: [] }))
      // Member 2: refused (400): nothing to verify.
      .post(`/3.0/lists/${LIST}/members/cid_2/tags`, { tags: VIP })
      .reply(400, problem(400, 'Invalid Resource', 'The resource submitted could not be validated.'));
    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push([added(0, 'vip'), added(1, 'vip', ['vip']), added(2, 'vip', ['vip'])]);
    expect(okResult(results[0]).state?.tags).toEqual(['vip']);
    expect(h.links.get('contact:1')?.state.tags).toEqual(['vip']);
    expect(errorResult(results[1])).toMatchObject({ kind: 'retryable' });
    expect(errorResult(results[2])).toMatchObject({ kind: 'permanent' });
    expect(h.ctx.calls).toBe(6);
    scope.done();
  });

  it('skips the tag event of a member archived since the last sync, with direct calls (a 404 is read again)', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_0/tags`, { tags: [{ name: 'vip', status: 'inactive' }] })
      .reply(404, GONE)
      .get(`/3.0/lists/${LIST}/members/cid_0`)
      .query(true)
      .reply(200, memberAnswer(emailOf(0), { contact_id: 'cid_0', status: 'archived' }))
      .post(`/3.0/lists/${LIST}/members/cid_1/tags`, { tags: VIP })
      .reply(404, GONE)
      .get(`/3.0/lists/${LIST}/members/cid_1`)
      .query(true)
      .reply(404, GONE)
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(200, { id: LIST, name: 'Newsletter' });
    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push([removed(0, 'vip', ['vip']), added(1, 'vip', ['vip'])]);
    expect(results[0]).toEqual({
      status: 'skipped',
      reason: `the member ${emailOf(0)} is archived in Mailchimp, which takes no tag changes; the CRM's tags follow when it is back`,
    });
    expect(errorResult(results[1])).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    scope.done();
  });

  it('saves the status a read found: a member marketing restored is not read again, and loses its restore status', async () => {
    const archivedLink = (i: number, type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED') =>
      tagEvent(i, type, 'vip', ['vip'], 'archived', { restoreStatus: 'unsubscribed' });
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_0`)
      .query(true)
      .reply(200, memberAnswer(emailOf(0), { contact_id: 'cid_0', tags: [{ id: 1, name: 'vip' }] }))
      .post(`/3.0/lists/${LIST}/members/cid_0/tags`, { tags: VIP })
      .reply(204)
      // The next push: no read.
      .post(`/3.0/lists/${LIST}/members/cid_0/tags`, { tags: [{ name: 'vip', status: 'inactive' }] })
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    const [first] = await h.push([archivedLink(0, 'CRM_CONTACT_TAG_ADDED')]);
    expect(okResult(first).state).toMatchObject({ status: 'subscribed', tags: ['vip'] });
    expect(okResult(first).state).not.toHaveProperty('restoreStatus');
    const [second] = await h.push([removed(0, 'vip')]);
    expect(okResult(second).state).toMatchObject({ status: 'subscribed', tags: [] });
    scope.done();

    // The same in batch runs.
    const bulk = mailchimp();
    const reads = await fakeRun(
      bulk,
      'r2',
      Array.from({ length: 10 }, (_, i) => readOp(i, i)),
      Array.from({ length: 10 }, (_, i) => read(i, i, ['vip'])),
    );
    const writes = await fakeRun(
      bulk,
      'w2',
      Array.from({ length: 10 }, (_, i) => tagsOp(i, i, VIP)),
      Array.from({ length: 10 }, (_, i) => answered(i, 204)),
    );
    const hb = harness({ listId: LIST }, KEY_A);
    const results = await hb.push(
      Array.from({ length: 10 }, (_, i) => archivedLink(i, 'CRM_CONTACT_TAG_ADDED')),
    );
    for (const result of results) {
      expect(okResult(result).state).toMatchObject({ status: 'subscribed', tags: ['vip'] });
      expect(okResult(result).state).not.toHaveProperty('restoreStatus');
    }
    bulk.done();
    reads.done();
    writes.done();
  });
});
