import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailchimpSandbox } from '../sandbox/index.js';
import { newKey, sandboxCall, startSandbox } from './sandbox-fixture.js';

/**
 * Where Mailchimp answers differently from what a client might assume, the sandbox answers as
 * Mailchimp does: tags are static segments, collections come a page at a time, segment updates
 * ignore addresses that are not in the audience, a 429 has no Retry-After, event times are checked.
 */
let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const call = (method: string, path: string, body?: unknown, base = env.url, key = env.key) =>
  sandboxCall(base, key, method, path, body);
const names = (tags: { name: string }[]) => tags.map((t) => t.name).sort();

describe('the Mailchimp sandbox, where clients assume too much', () => {
  it('leaves an archived member as it was when a PATCH that would restore it has invalid merge fields', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'kept@example.com', status: 'archived' });
    const refused = await call('PATCH', `/lists/${listId}/members/kept@example.com`, {
      status: 'subscribed',
      merge_fields: { NOPE: 'x' },
    });
    expect(refused.status).toBe(400);
    expect(env.sandbox.member(listId, 'kept@example.com')?.status).toBe('archived');
    // PATCH updates an archived member's fields and leaves it archived unless a status is sent.
    const patched = await call('PATCH', `/lists/${listId}/members/kept@example.com`, {
      merge_fields: { FNAME: 'Kept' },
    });
    expect(patched.body).toMatchObject({ status: 'archived', merge_fields: { FNAME: 'Kept' } });
    const missing = await call('PATCH', `/lists/${listId}/members/nobody@example.com`, { merge_fields: {} });
    expect(missing.status).toBe(404);

    // Any refused part leaves every part undone: a taken address with a restore,
    env.sandbox.seedMember(listId, { email: 'taken@example.com', status: 'subscribed' });
    const taken = await call('PATCH', `/lists/${listId}/members/kept@example.com`, {
      status: 'subscribed',
      email_address: 'taken@example.com',
    });
    expect(taken.status).toBe(400);
    expect(env.sandbox.member(listId, 'kept@example.com')?.status).toBe('archived');
    // and a resubscribe Mailchimp refuses, with an address and fields.
    env.sandbox.seedMember(listId, { email: 'left@example.com', status: 'unsubscribed' });
    const refused2 = await call('PATCH', `/lists/${listId}/members/left@example.com`, {
      status: 'subscribed',
      email_address: 'left.new@example.com',
      merge_fields: { FNAME: 'Changed' },
    });
    expect(refused2.body).toMatchObject({ status: 400, title: 'Member In Compliance State' });
    expect(env.sandbox.member(listId, 'left.new@example.com')).toBeUndefined();
    expect(env.sandbox.member(listId, 'left@example.com')?.merge_fields).not.toMatchObject({
      FNAME: 'Changed',
    });
  });

  it('keeps tags and static segments as one: each API sees what the other did', async () => {
    const { listId } = env.audience();
    for (const email of ['ada@example.com', 'bob@example.com'])
      env.sandbox.seedMember(listId, { email, status: 'subscribed' });
    await call('POST', `/lists/${listId}/members/ada@example.com/tags`, {
      tags: [{ name: 'Webinar', status: 'active' }],
    });
    const listed = await call('GET', `/lists/${listId}/segments?type=static`);
    expect(listed.body.segments).toEqual([
      expect.objectContaining({ name: 'Webinar', type: 'static', member_count: 1 }),
    ]);
    const webinar = listed.body.segments[0];
    const ada = env.sandbox.member(listId, 'ada@example.com');
    expect(ada?.tags).toEqual([{ id: webinar.id, name: 'Webinar' }]);

    // Adding to the segment tags the member; a segment of a tag's name is refused.
    const added = await call('POST', `/lists/${listId}/segments/${webinar.id}`, {
      members_to_add: ['bob@example.com'],
      members_to_remove: ['ada@example.com'],
    });
    expect(added.body).toMatchObject({ total_added: 1, total_removed: 1, error_count: 0 });
    expect(names(env.sandbox.member(listId, 'bob@example.com')?.tags ?? [])).toEqual(['Webinar']);
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags).toEqual([]);
    const members = await call('GET', `/lists/${listId}/segments/${webinar.id}/members`);
    expect(members.body.members.map((m: { email_address: string }) => m.email_address)).toEqual([
      'bob@example.com',
    ]);
    const again = await call('POST', `/lists/${listId}/segments`, { name: 'webinar', static_segment: [] });
    expect(again).toMatchObject({ status: 400, body: { title: 'Invalid Resource' } });
  });

  it('ignores addresses that are not in the audience when updating a segment, without an error', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'in@example.com', status: 'subscribed' });
    env.sandbox.seedMember(listId, { email: 'gone@example.com', status: 'archived' });
    const created = await call('POST', `/lists/${listId}/segments`, {
      name: 'Customers',
      static_segment: [],
    });
    const answer = await call('POST', `/lists/${listId}/segments/${created.body.id}`, {
      members_to_add: ['in@example.com', 'nobody@example.com', 'gone@example.com'],
      members_to_remove: ['nobody@example.com'],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      total_added: 1,
      total_removed: 0,
      errors: [],
      error_count: 0,
      members_removed: [],
    });
    expect(answer.body.members_added.map((m: { email_address: string }) => m.email_address)).toEqual([
      'in@example.com',
    ]);
    // Already in: nothing added, nothing said.
    const replay = await call('POST', `/lists/${listId}/segments/${created.body.id}`, {
      members_to_add: ['in@example.com'],
    });
    expect(replay.body).toMatchObject({ total_added: 0, members_added: [], errors: [] });
  });

  it('answers collections a page at a time: count (10 by default, at most 1000), offset, total_items', async () => {
    const { listId } = env.audience();
    const audience = env.sandbox.audience(listId);
    for (let i = 0; i < 1005; i++) audience.tagNamed(`Tag ${i}`);
    for (let i = 0; i < 12; i++)
      audience.addMergeField({ tag: `F${i}`, name: `F${i}`, type: 'text', required: false, options: {} });
    for (let i = 0; i < 12; i++)
      env.sandbox.seedMember(listId, { email: `m${i}@example.com`, status: 'subscribed' });

    const first = await call('GET', `/lists/${listId}/segments?type=static`);
    expect(first.body.segments).toHaveLength(10);
    expect(first.body.total_items).toBe(1005);
    const most = await call('GET', `/lists/${listId}/segments?type=static&count=5000`);
    expect(most.body.segments).toHaveLength(1000);
    const last = await call('GET', `/lists/${listId}/segments?type=static&count=1000&offset=1000`);
    expect(last.body.segments.map((s: { name: string }) => s.name)).toEqual([
      'Tag 1000',
      'Tag 1001',
      'Tag 1002',
      'Tag 1003',
      'Tag 1004',
    ]);

    // 5 stock merge fields and 12 more.
    const fields = await call('GET', `/lists/${listId}/merge-fields`);
    expect(fields.body).toMatchObject({ total_items: 17 });
    expect(fields.body.merge_fields).toHaveLength(10);
    const rest = await call('GET', `/lists/${listId}/merge-fields?count=10&offset=10`);
    expect(rest.body.merge_fields).toHaveLength(7);

    const members = await call('GET', `/lists/${listId}/members?count=5&offset=10`);
    expect(members.body).toMatchObject({ total_items: 12 });
    expect(members.body.members.map((m: { email_address: string }) => m.email_address)).toEqual([
      'm10@example.com',
      'm11@example.com',
    ]);
    expect((await call('GET', `/lists/${listId}/merge-fields?offset=-1`)).status).toBe(400);
  });

  it('answers a 429 without Retry-After, as Mailchimp does, unless asked to send one', async () => {
    const { listId } = env.audience();
    env.sandbox.configure({ perSecond: 1 });
    try {
      await call('GET', `/lists/${listId}`);
      const refused = await call('GET', `/lists/${listId}`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeNull();
    } finally {
      env.sandbox.configure({ perSecond: null });
    }

    const withHeader = createMailchimpSandbox({ limits: { perSecond: 1 }, retryAfterHeader: true });
    const { url } = await withHeader.start();
    try {
      const key = newKey();
      withHeader.addAccount(key);
      withHeader.addAudience({ id: 'l1', apiKey: key });
      await call('GET', '/lists/l1', undefined, url, key);
      const refused = await call('GET', '/lists/l1', undefined, url, key);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
    } finally {
      await withHeader.stop();
    }
  });

  it('refuses a member event whose occurred_at is not an ISO 8601 date and time, naming the field', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'ev@example.com', status: 'subscribed' });
    const path = `/lists/${listId}/members/ev@example.com/events`;
    for (const occurred_at of ['yesterday', '2026-11-22', 1763800000, '2026-13-40T25:00:00Z']) {
      const refused = await call('POST', path, { name: 'crm_call', occurred_at });
      expect(refused).toMatchObject({
        status: 400,
        body: { title: 'Invalid Resource', errors: [expect.objectContaining({ field: 'occurred_at' })] },
      });
    }
    expect(
      (await call('POST', path, { name: 'crm_call', occurred_at: '2026-11-22T09:30:00+02:00' })).status,
    ).toBe(204);
    expect((await call('POST', path, { name: 'crm_call' })).status).toBe(204);
    expect(env.sandbox.member(listId, 'ev@example.com')?.events).toHaveLength(2);
  });
});
