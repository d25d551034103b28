import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderRequest } from '../../types.js';
import { contact, crmEvent, okResult, payloadOf, record } from './fixtures.js';
import { startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const create = (id: number, seats: number) => {
  const c = contact(id, `seat${id}@example.com`);
  return record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_CREATED', c),
    entityId: String(id),
    payload: payloadOf(c, { SEATS: seats }),
  });
};

const mergeFieldCalls = (listId: string) =>
  env.sandbox.traffic.log
    .filter((e) => e.path === `/lists/${listId}/merge-fields`)
    .map((e) => `${e.method} ${e.status}`);

/** Runs `before` once, just ahead of the client's first write (the merge field's creation). */
function beforeFirstWrite(ctx: { request: ProviderRequest }, before: () => void): void {
  const request = ctx.request;
  let done = false;
  ctx.request = (call, options) => {
    if (options?.kind === 'write' && !done) {
      done = true;
      before();
    }
    return request(call, options);
  };
}

describe('creating a missing merge field that another worker creates first', () => {
  it('takes the field the other worker created and writes every member of the batch', async () => {
    const { listId, push, ctx } = env.audience({ createMissingMergeFields: true });
    // The other worker read the same catalog and won the race to create SEATS.
    beforeFirstWrite(ctx, () =>
      env.sandbox
        .audience(listId)
        .addMergeField({ tag: 'SEATS', name: 'Seats', type: 'number', required: false, options: {} }),
    );
    const results = await push([create(1, 3), create(2, 12), create(3, 40)]);
    for (const result of results) okResult(result);
    // The catalog, its re-read for a tag it lacks, the lost race, the read that finds the field.
    expect(mergeFieldCalls(listId)).toEqual(['GET 200', 'GET 200', 'POST 400', 'GET 200']);
    expect([...env.sandbox.audience(listId).mergeFields.keys()].filter((t) => t === 'SEATS')).toHaveLength(1);
    expect(env.sandbox.member(listId, 'seat2@example.com')?.merge_fields).toMatchObject({ SEATS: 12 });
  });

  it('fails with Mailchimp’s own answer when the field is still not there after a fresh read', async () => {
    const { listId, push } = env.audience({ createMissingMergeFields: true });
    env.sandbox.faults.add({
      method: 'POST',
      path: `/lists/${listId}/merge-fields`,
      status: 400,
      title: 'Invalid Resource',
      detail: 'A Merge Field with the tag "SEATS" already exists for this list.',
    });
    await expect(push([create(1, 3)])).rejects.toMatchObject({
      kind: 'permanent',
      status: 400,
      message: expect.stringContaining('A Merge Field with the tag "SEATS" already exists for this list.'),
    });
    expect(mergeFieldCalls(listId)).toEqual(['GET 200', 'GET 200', 'POST 400', 'GET 200']);
  });

  it('answers a duplicate merge tag as Mailchimp does: 400 Invalid Resource, problem+json', async () => {
    const { listId } = env.audience();
    const answer = await fetch(`${env.url}/lists/${listId}/merge-fields`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`user:${env.key}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ tag: 'FNAME', name: 'First name', type: 'text' }),
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(await answer.json()).toMatchObject({
      title: 'Invalid Resource',
      status: 400,
      detail: 'A Merge Field with the tag "FNAME" already exists for this list.',
    });
  });
});
