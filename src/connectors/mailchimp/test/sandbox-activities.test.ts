import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import type { PushRecord } from '../../types.js';
import { crmEvent, okResult, record } from './fixtures.js';
import { sandboxCall, startSandbox } from './sandbox-fixture.js';

/**
 * A member's notes and events in the sandbox as a client reads them back (what a retried
 * activity looks through), and the faults that lose a write's answer after the write.
 */
let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const call = (method: string, path: string, body?: unknown) =>
  sandboxCall(env.url, env.key, method, path, body);

function memberOf(listId: string, email: string) {
  env.sandbox.seedMember(listId, { email, status: 'subscribed' });
  return `/lists/${listId}/members/${env.sandbox.member(listId, email)?.contact_id}`;
}

describe('member notes and events in the Mailchimp sandbox', () => {
  it('lists a member’s notes sorted as asked, a page at a time, with total_items', async () => {
    const { listId } = env.audience();
    const path = memberOf(listId, 'notes@example.com');
    for (const note of ['first', 'second', 'third'])
      expect((await call('POST', `${path}/notes`, { note })).status).toBe(200);

    const newest = await call('GET', `${path}/notes?sort_field=created_at&sort_dir=DESC&count=2&offset=0`);
    expect(newest.body).toMatchObject({ total_items: 3, list_id: listId });
    expect(newest.body.notes.map((n: { note: string }) => n.note)).toEqual(['third', 'second']);
    expect(newest.body.notes[0]).toMatchObject({ id: expect.any(Number), created_at: expect.any(String) });
    const rest = await call('GET', `${path}/notes?sort_field=created_at&sort_dir=DESC&count=2&offset=2`);
    expect(rest.body.notes.map((n: { note: string }) => n.note)).toEqual(['first']);

    const wrong = await call('GET', `${path}/notes?sort_field=nope`);
    expect(wrong.body).toMatchObject({ status: 400, errors: [{ field: 'sort_field' }] });
    expect((await call('GET', `/lists/${listId}/members/nobody@example.com/notes`)).status).toBe(404);
  });

  it('lists a member’s events a page at a time, newest first, with their properties', async () => {
    const { listId } = env.audience();
    const path = memberOf(listId, 'events@example.com');
    for (const id of ['1', '2', '3'])
      await call('POST', `${path}/events`, { name: 'crm_call', properties: { crm_activity_id: id } });
    const page = await call('GET', `${path}/events?count=2&offset=1`);
    expect(page.body).toEqual({
      events: [
        { name: 'crm_call', properties: { crm_activity_id: '2' }, occurred_at: expect.any(String) },
        { name: 'crm_call', properties: { crm_activity_id: '1' }, occurred_at: expect.any(String) },
      ],
      total_items: 3,
    });
  });

  it('carries out a write and then answers 500, or closes the connection, when a fault says `applied`', async () => {
    const { listId } = env.audience();
    const path = memberOf(listId, 'lost@example.com');
    env.sandbox.faults.add({ method: 'POST', path: `${path}/notes`, status: 500, applied: true });
    expect((await call('POST', `${path}/notes`, { note: 'kept' })).status).toBe(500);
    env.sandbox.faults.add({
      method: 'POST',
      path: `${path}/events`,
      status: 500,
      applied: true,
      drop: true,
    });
    await expect(call('POST', `${path}/events`, { name: 'crm_call' })).rejects.toThrow();
    const member = env.sandbox.member(listId, 'lost@example.com');
    expect(member?.notes.map((n) => n.note)).toEqual(['kept']);
    expect(member?.events.map((e) => e.name)).toEqual(['crm_call']);
    expect(env.sandbox.traffic.log.at(-1)).toMatchObject({ method: 'POST', status: 0 });
  });

  it('carries out a batch operation and then gives it the fault as its result, when `applied`', async () => {
    const { listId } = env.audience();
    const path = memberOf(listId, 'batched@example.com');
    env.sandbox.faults.add({ method: 'POST', path: `${path}/notes`, status: 500, applied: true });
    const submitted = await call('POST', '/batches', {
      operations: [{ method: 'POST', path: `${path}/notes`, body: JSON.stringify({ note: 'kept' }) }],
    });
    const finished = await waitFor('the batch to finish', () =>
      env.sandbox.batches().find((b) => b.id === submitted.body.id && b.status === 'finished'),
    );
    expect(finished.results).toMatchObject([{ status_code: 500 }]);
    expect(env.sandbox.member(listId, 'batched@example.com')?.notes.map((n) => n.note)).toEqual(['kept']);
  });

  it('lets a retried note find the one its lost answer hid, so the member keeps one', async () => {
    const { listId, push, links } = env.audience();
    const path = memberOf(listId, 'retry@example.com');
    const member = env.sandbox.member(listId, 'retry@example.com');
    links.set('contact:1', {
      externalId: member?.contact_id ?? null,
      state: {
        listId,
        memberId: member?.contact_id,
        subscriberHash: member?.id,
        email: 'retry@example.com',
        status: 'subscribed',
        tags: [],
      },
    });
    // The fixtures date CRM events 2026-11-22; the sandbox dates notes now, after the event.
    const event = {
      ...crmEvent('CRM_ACTIVITY_CREATED', {
        id: 40,
        contactId: 1,
        type: 'NOTE',
        content: 'Call back',
        occurredAt: '2026-11-22T09:00:00.000Z',
      }),
      occurredAt: new Date().toISOString(),
    };
    const note = (retried: boolean): PushRecord => ({
      ...record({ operation: 'activity', entityType: 'activity', entityId: '40', event }),
      ...(retried ? { retried: true } : {}),
    });
    env.sandbox.faults.add({ method: 'POST', path: `${path}/notes`, status: 503, applied: true });
    const [lost] = await push([note(false)]);
    expect(lost).toMatchObject({ status: 'error', error: { kind: 'retryable', status: 503 } });
    const [retry] = await push([note(true)]);
    const kept = env.sandbox.member(listId, 'retry@example.com')?.notes ?? [];
    expect(kept.map((n) => n.note)).toEqual(['Call back']);
    expect(okResult(retry).externalId).toBe(`note:${kept[0]?.id}`);
  });
});
