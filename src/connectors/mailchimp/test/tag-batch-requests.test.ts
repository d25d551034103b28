import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, errorResult, harness, okResult, record } from './fixtures.js';
import {
  KEY_A,
  LIST,
  mailchimp,
  md5,
  memberAnswer,
  problem,
  RESULTS_HOST,
  resultsArchive,
} from './nock-helpers.js';

useStrictNock();

const emailOf = (i: number) => `m${i}@example.com`;

/** A tag event of linked member i, whose link owns `owned` and last saw it as `status`. */
const tagEvent = (
  i: number,
  type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED',
  tag: string,
  owned: string[] = [],
  status = 'subscribed',
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

/**
 * One batch run as Mailchimp answers it: the submit (exact operations), one status read that
 * finds it finished, and the results archive behind a pre-signed link that must not get the key.
 */
async function fakeRun(scope: nock.Scope, id: string, operations: nock.DataMatcherMap[], results: unknown[]) {
  scope
    .post('/3.0/batches', { operations })
    .reply(200, { id, status: 'pending', total_operations: operations.length })
    .get(`/3.0/batches/${id}`)
    .reply(200, {
      id,
      status: 'finished',
      total_operations: operations.length,
      finished_operations: operations.length,
      response_body_url: `${RESULTS_HOST}/${id}.tar.gz?X-Amz-Signature=sig`,
    });
  return nock(RESULTS_HOST, { badheaders: ['authorization'] })
    .get(`/${id}.tar.gz`)
    .query({ 'X-Amz-Signature': 'sig' })
    .reply(200, await resultsArchive(id, [results]), { 'content-type': 'application/x-gzip' });
}

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
      writtenTo.map((i, op) => (i === 9 ? answered(op, 404, GONE) : answered(op, 204))),
    );

    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push(records);

    for (const i of [1, 2, 4, 6, 8, 10, 11, 13])
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
    expect(results[12]).toEqual({
      status: 'skipped',
      reason: 'tag "webinar" was not set by the CRM, so it is left as it is',
    });
    // Two runs of three requests and the audience read, instead of 12 reads and 13 tag calls.
    expect(h.ctx.calls).toBe(7);
    scope.done();
    reads.done();
    writes.done();
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
});
