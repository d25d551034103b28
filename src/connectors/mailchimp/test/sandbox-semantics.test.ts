import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKey, sandboxCall, startSandbox } from './sandbox-fixture.js';

/**
 * The sandbox itself behaves as Mailchimp documents it, so that tests passing against it mean
 * something: a connector that sent `status` to existing members would fail them.
 */
let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const call = (method: string, path: string, body?: unknown) =>
  sandboxCall(env.url, env.key, method, path, body);

describe('the Mailchimp sandbox', () => {
  it('lets batch subscribe with update_existing change an existing member’s status, as documented', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'fan@example.com', status: 'subscribed' });
    env.sandbox.seedMember(listId, { email: 'left@example.com', status: 'unsubscribed' });
    const answer = await call('POST', `/lists/${listId}`, {
      members: [
        { email_address: 'fan@example.com', status: 'transactional' },
        { email_address: 'left@example.com', status: 'pending' },
      ],
      update_existing: true,
    });
    expect(answer.body.updated_members).toHaveLength(2);
    expect(env.sandbox.member(listId, 'fan@example.com')?.status).toBe('transactional');
    expect(env.sandbox.member(listId, 'left@example.com')?.status).toBe('pending');
    expect(env.sandbox.audience(listId).confirmations.map((c) => c.email)).toContain('left@example.com');
  });

  it('finds a member by contact_id as by hash or email, until it is deleted permanently', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'one@example.com', status: 'subscribed' });
    env.sandbox.seedMember(listId, { email: 'two@example.com', status: 'subscribed' });
    const two = env.sandbox.member(listId, 'two@example.com')!;
    expect(two.contact_id).toMatch(/^[0-9a-f]{32}$/);
    expect(two.unique_email_id).toMatch(/^[0-9a-f]{10}$/);
    const found = await call('GET', `/lists/${listId}/members/${two.contact_id}`);
    expect(found).toMatchObject({ status: 200, body: { email_address: 'two@example.com' } });
    const deleted = await call('POST', `/lists/${listId}/members/${two.contact_id}/actions/delete-permanent`);
    expect(deleted.status).toBe(204);
    expect((await call('GET', `/lists/${listId}/members/${two.contact_id}`)).status).toBe(404);
    expect((await call('GET', `/lists/${listId}/members/one@example.com`)).status).toBe(200);
  });

  it('refuses to subscribe an unsubscribed member with Member In Compliance State', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'left@example.com', status: 'unsubscribed' });
    const answer = await call('PATCH', `/lists/${listId}/members/left@example.com`, { status: 'subscribed' });
    expect(answer).toMatchObject({
      status: 400,
      type: 'application/problem+json',
      body: { title: 'Member In Compliance State' },
    });
  });

  it('applies status_if_new to new members only', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'left@example.com', status: 'unsubscribed' });
    const hash = env.sandbox.member(listId, 'left@example.com')?.id;
    const existing = await call('PUT', `/lists/${listId}/members/${hash}`, {
      email_address: 'left@example.com',
      status_if_new: 'subscribed',
    });
    expect(existing.body.status).toBe('unsubscribed');
  });

  it('reports existing members in batch subscribe without update_existing as ERROR_CONTACT_EXISTS', async () => {
    const { listId } = env.audience();
    env.sandbox.seedMember(listId, { email: 'fan@example.com', status: 'subscribed' });
    const answer = await call('POST', `/lists/${listId}`, {
      members: [{ email_address: 'fan@example.com', status: 'subscribed' }],
    });
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ email_address: 'fan@example.com', error_code: 'ERROR_CONTACT_EXISTS' }),
    ]);
  });

  it('validates merge fields by type and names the field', async () => {
    const { listId } = env.audience();
    const answer = await call('PUT', `/lists/${listId}/members/x@example.com`, {
      email_address: 'x@example.com',
      status_if_new: 'subscribed',
      merge_fields: { BIRTHDAY: '1990-12-24', NOPE: 'x' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { field: 'BIRTHDAY', message: 'Please enter a month and day (MM/DD)' },
      { field: 'NOPE', message: 'This merge field does not exist in the audience' },
    ]);
  });

  it('names the account at the API root, the same for every key of it, with only the fields asked for', async () => {
    const { listId } = env.audience();
    const colleague = newKey();
    env.sandbox.addAccount(colleague, 'acme');
    const other = newKey();
    env.sandbox.addAccount(other, 'globex', 'globex0id');

    const mine = await call('GET', '/');
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({
      account_id: expect.stringMatching(/^[0-9a-f]{25}$/),
      account_name: 'acme',
    });
    const theirs = await sandboxCall(env.url, colleague, 'GET', '/?fields=account_id');
    expect(theirs.body).toEqual({ account_id: mine.body.account_id });
    expect((await sandboxCall(env.url, other, 'GET', '/?fields=account_id')).body).toEqual({
      account_id: 'globex0id',
    });
    // One account: the colleague's key reaches the same audiences.
    expect((await sandboxCall(env.url, colleague, 'GET', `/lists/${listId}`)).status).toBe(200);
    expect(() => env.sandbox.addAccount(newKey(), 'globex', 'another0id')).toThrow(/already has/);
  });

  it('rejects an unknown key with 401 and counts the most requests in any window', async () => {
    const answer = await fetch(`${env.url}/ping`, { headers: { authorization: 'Basic eDp3cm9uZw==' } });
    expect(answer.status).toBe(401);
    env.sandbox.traffic.reset();
    for (let i = 0; i < 3; i++) await call('GET', '/ping');
    expect(env.sandbox.traffic.maxInWindow(60_000)).toBe(3);
    expect(env.sandbox.traffic.maxInWindow(0.000_001)).toBe(1);
  });
});
