import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { isConnectorError } from '../../errors.js';
import { contact, crmEvent, errorResult, harness, okResult, payloadOf, record } from './fixtures.js';
import { KEY_A, LIST, mailchimp, md5, memberAnswer, mergeFields, problem } from './nock-helpers.js';

useStrictNock();

const create = (id: number, email: string) => {
  const c = contact(id, email);
  return record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_CREATED', c),
    entityId: String(id),
    payload: payloadOf(c),
  });
};
const linked = (id: number, email: string) => ({
  ...create(id, email),
  externalId: `cid_${id}`,
  state: {
    listId: LIST,
    memberId: `cid_${id}`,
    subscriberHash: md5(email),
    email,
    status: 'subscribed',
    tags: [],
  },
});

async function thrown(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isConnectorError(error)) return error;
    throw error;
  }
  throw new Error('expected the push to throw');
}

/** Everything an error carries, as a dead letter or a log line would keep it. */
const everything = (error: unknown) =>
  JSON.stringify(error, (_k, v) => (v instanceof Error ? { ...v, message: v.message, cause: v.cause } : v));

describe('Mailchimp failures', () => {
  it('splits batch subscribe errors back onto their records by email, whatever the answer’s order', async () => {
    const scope = mergeFields(mailchimp())
      .post(`/3.0/lists/${LIST}`)
      .reply(200, {
        new_members: [memberAnswer('ok@example.com')],
        updated_members: [],
        errors: [
          {
            email_address: 'gone@example.com',
            error: 'gone@example.com was permanently deleted and cannot be re-imported.',
            error_code: 'ERROR_GENERIC',
          },
          {
            email_address: 'BAD@example.com',
            error: 'Your merge fields were invalid.',
            error_code: 'ERROR_GENERIC',
            field: 'FNAME',
            field_message: 'Too long',
          },
        ],
      });
    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push([
      create(1, 'bad@example.com'),
      create(2, 'ok@example.com'),
      create(3, 'gone@example.com'),
    ]);
    expect(errorResult(results[0])).toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('merge field FNAME: Too long'),
    });
    okResult(results[1]);
    expect(errorResult(results[2])).toMatchObject({
      kind: 'permanent',
      code: 'Forgotten Email Not Subscribed',
    });
    scope.done();
  });

  it('fails one member in compliance state permanently and still writes the others', async () => {
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/cid_1`)
      .reply(
        400,
        problem(
          400,
          'Member In Compliance State',
          'a@example.com is already a list member in compliance state',
        ),
        {
          'content-type': 'application/problem+json',
        },
      )
      .patch(`/3.0/lists/${LIST}/members/cid_2`)
      .reply(200, memberAnswer('b@example.com'));
    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push([linked(1, 'a@example.com'), linked(2, 'b@example.com')]);
    expect(errorResult(results[0])).toMatchObject({
      kind: 'permanent',
      code: 'Member In Compliance State',
      status: 400,
      message: expect.stringContaining('does not let a sync resubscribe them'),
    });
    okResult(results[1]);
    scope.done();
  });

  it('throws a rate limit with Mailchimp’s Retry-After when the batch call is refused', async () => {
    const scope = mergeFields(mailchimp())
      .post(`/3.0/lists/${LIST}`)
      .reply(
        429,
        problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.'),
        {
          'content-type': 'application/problem+json',
          'retry-after': '7',
        },
      );
    const error = await thrown(harness({ listId: LIST }, KEY_A).push([create(1, 'a@example.com')]));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000, status: 429 });
    scope.done();
  });

  it('throws a retryable error on a 5xx or a dropped connection', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/merge-fields`)
      .query(true)
      .reply(503, 'upstream down')
      .get(`/3.0/lists/${LIST}/merge-fields`)
      .query(true)
      .replyWithError('socket hang up');
    const h = harness({ listId: LIST }, KEY_A);
    expect(await thrown(h.push([create(1, 'a@example.com')]))).toMatchObject({
      kind: 'retryable',
      status: 503,
    });
    expect(await thrown(h.push([create(1, 'a@example.com')]))).toMatchObject({
      kind: 'retryable',
      message: 'Mailchimp GET merge fields failed: socket hang up',
    });
    scope.done();
  });

  it('throws an auth error for a rejected key without the key anywhere in it', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/merge-fields`)
      .query(true)
      .reply(401, problem(401, 'API Key Invalid', `Your API key may be invalid: ${KEY_A}`), {
        'content-type': 'application/problem+json',
      });
    const error = await thrown(harness({ listId: LIST }, KEY_A).push([create(1, 'a@example.com')]));
    expect(error.kind).toBe('auth');
    const serialized = everything(error);
    expect(serialized).toContain('API Key Invalid');
    expect(serialized).not.toContain(KEY_A);
    expect(serialized).not.toContain(Buffer.from(`user:${KEY_A}`).toString('base64'));
    expect(serialized).not.toMatch(/authorization/i);
    scope.done();
  });

  it('stops sending once the key is rejected mid-batch and throws the auth error', async () => {
    const records = Array.from({ length: 14 }, (_, i) => linked(i + 1, `m${i}@example.com`));
    const scope = mergeFields(mailchimp())
      .patch(/\/3\.0\/lists\/list1\/members\/cid_\d+$/)
      .times(10)
      .reply(401, problem(401, 'API Key Invalid', 'revoked'), { 'content-type': 'application/problem+json' });
    // One PATCH each (no batch run), to see the sending stop.
    const h = harness({ listId: LIST, batchUpdatesFrom: 0 }, KEY_A);
    expect(await thrown(h.push(records))).toMatchObject({ kind: 'auth' });
    // The first ten were in flight together (Mailchimp's connection cap); the rest never left.
    expect(h.ctx.calls).toBe(11);
    scope.done();
  });

  it('throws the auth error when the key is rejected on a batch run’s submit', async () => {
    const records = Array.from({ length: 12 }, (_, i) => linked(i + 1, `m${i}@example.com`));
    const scope = mergeFields(mailchimp())
      .post('/3.0/batches')
      .reply(401, problem(401, 'API Key Invalid', 'revoked'), { 'content-type': 'application/problem+json' });
    const h = harness({ listId: LIST }, KEY_A);
    expect(await thrown(h.push(records))).toMatchObject({ kind: 'auth' });
    expect(h.ctx.calls).toBe(2);
    scope.done();
  });

  it('reports a missing audience as a config error on check, naming it', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}`)
      .query(true)
      .reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'), {
        'content-type': 'application/problem+json',
      });
    const result = await harness({ listId: LIST }, KEY_A).client.check();
    expect(result).toEqual({
      ok: false,
      message:
        'Mailchimp GET audience answered 404 — Resource Not Found: The requested resource could not be found.',
    });
    scope.done();
  });
});
