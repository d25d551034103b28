import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, crmEvent, errorResult, okResult, payloadOf, record } from './fixtures.js';
import { startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const upsert = (c: ReturnType<typeof contact>, extra: Record<string, unknown> = {}) =>
  record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_UPDATED', c),
    entityId: String(c.id),
    payload: payloadOf(c, extra),
  });

describe('members in the Mailchimp sandbox', () => {
  it('creates 1,200 contacts with three batch calls and their merge fields and tags', async () => {
    const { listId, push, ctx } = env.audience();
    const contacts = Array.from({ length: 1200 }, (_, i) =>
      contact(i + 1, `person${i}@example.com`, { tags: i % 2 ? ['vip'] : [] }),
    );
    const results = [] as Awaited<ReturnType<typeof push>>;
    for (let i = 0; i < contacts.length; i += 500)
      results.push(...(await push(contacts.slice(i, i + 500).map((c) => upsert(c)))));
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    expect(ctx.calls).toBe(1 + 3);
    expect(env.sandbox.member(listId, 'person7@example.com')).toMatchObject({
      status: 'subscribed',
      merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
      tags: [{ name: 'vip' }],
    });
    expect(env.sandbox.audience(listId).members.size).toBe(1200);
  });

  it('never resubscribes a member who unsubscribed or was cleaned, and never re-asks them to opt in', async () => {
    const { listId, push } = env.audience({ statusIfNew: 'pending' });
    env.sandbox.seedMember(listId, { email: 'left@example.com', status: 'unsubscribed' });
    env.sandbox.seedMember(listId, { email: 'bounced@example.com', status: 'cleaned' });
    const before = env.sandbox.audience(listId).confirmations.length;
    const results = await push([
      upsert(contact(1, 'left@example.com', { givenName: 'Lee' })),
      upsert(contact(2, 'bounced@example.com')),
      upsert(contact(3, 'new@example.com')),
    ]);
    expect(okResult(results[0]).state).toMatchObject({ status: 'unsubscribed' });
    expect(okResult(results[1]).state).toMatchObject({ status: 'cleaned' });
    expect(env.sandbox.member(listId, 'left@example.com')).toMatchObject({
      status: 'unsubscribed',
      merge_fields: { FNAME: 'Lee' },
    });
    expect(env.sandbox.member(listId, 'bounced@example.com')?.status).toBe('cleaned');
    // Only the new member was asked to confirm.
    expect(
      env.sandbox
        .audience(listId)
        .confirmations.slice(before)
        .map((c) => c.email),
    ).toEqual(['new@example.com']);
  });

  it('does not demote an existing subscriber when new members are transactional', async () => {
    const { listId, push } = env.audience({ statusIfNew: 'transactional' });
    env.sandbox.seedMember(listId, { email: 'fan@example.com', status: 'subscribed' });
    await push([upsert(contact(1, 'fan@example.com')), upsert(contact(2, 'buyer@example.com'))]);
    expect(env.sandbox.member(listId, 'fan@example.com')?.status).toBe('subscribed');
    expect(env.sandbox.member(listId, 'buyer@example.com')?.status).toBe('transactional');
  });

  it('keeps a linked member unsubscribed after they unsubscribe in Mailchimp, and records it on the link', async () => {
    const { listId, push, links } = env.audience();
    const c = contact(1, 'ada@example.com');
    await push([upsert(c)]);
    env.sandbox.setStatus(listId, 'ada@example.com', 'unsubscribed');
    await push([upsert({ ...c, givenName: 'Augusta' })]);
    expect(env.sandbox.member(listId, 'ada@example.com')).toMatchObject({
      status: 'unsubscribed',
      merge_fields: { FNAME: 'Augusta' },
    });
    expect(links.get('contact:1')?.state).toMatchObject({ status: 'unsubscribed' });
  });

  it('updates the same member when the CRM contact’s email changes', async () => {
    const { listId, push, links } = env.audience();
    await push([upsert(contact(1, 'old@example.com'))]);
    const memberId = links.get('contact:1')?.externalId;
    const [result] = await push([upsert(contact(1, 'new@example.com'))]);
    expect(okResult(result).externalId).toBe(memberId);
    expect(env.sandbox.member(listId, 'old@example.com')).toBeUndefined();
    expect(env.sandbox.member(listId, 'new@example.com')?.contact_id).toBe(memberId);
    expect(env.sandbox.audience(listId).members.size).toBe(1);
  });

  it('adds and removes only the tags the CRM owns', async () => {
    const { listId, push } = env.audience();
    await push([upsert(contact(1, 'ada@example.com', { tags: ['vip', 'beta'] }))]);
    env.sandbox
      .audience(listId)
      .setTags(env.sandbox.audience(listId).live('ada@example.com'), [{ name: 'webinar', status: 'active' }]);
    await push([upsert(contact(1, 'ada@example.com', { tags: ['beta', 'webinar'] }))]);
    expect(
      env.sandbox
        .member(listId, 'ada@example.com')
        ?.tags.map((t) => t.name)
        .sort(),
    ).toEqual(['beta', 'webinar']);
    const tagRemoved = (tag: string, tags: string[]) =>
      record({
        operation: 'tag_remove',
        event: crmEvent('CRM_CONTACT_TAG_REMOVED', { ...contact(1, 'ada@example.com', { tags }), tag }),
        entityId: '1',
      });
    const results = await push([tagRemoved('webinar', ['beta'])]);
    expect(results[0]?.status).toBe('skipped');
    await push([tagRemoved('beta', [])]);
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags.map((t) => t.name)).toEqual(['webinar']);
  });

  it('formats merge fields so the audience accepts them, creating missing ones with their type when allowed', async () => {
    const { listId, push } = env.audience({ createMissingMergeFields: true }, [
      { tag: 'BDAY', name: 'Birthday', type: 'birthday', required: false, options: { date_format: 'DD/MM' } },
      { tag: 'PLAN', name: 'Plan', type: 'dropdown', required: false, options: { choices: ['Free', 'Pro'] } },
    ]);
    const c = contact(1, 'ada@example.com');
    const [result] = await push([
      record({
        operation: 'upsert',
        event: crmEvent('CRM_CONTACT_CREATED', c),
        entityId: '1',
        payload: { EMAIL: c.email, BDAY: '1815-12-10', PLAN: 'pro', SEATS: 12, RENEWAL: '2027-01-31' },
      }),
    ]);
    okResult(result);
    const audience = env.sandbox.audience(listId);
    expect(audience.mergeFields.get('SEATS')?.type).toBe('number');
    expect(audience.mergeFields.get('RENEWAL')?.type).toBe('date');
    expect(env.sandbox.member(listId, 'ada@example.com')?.merge_fields).toEqual({
      BDAY: '10/12',
      PLAN: 'Pro',
      SEATS: 12,
      RENEWAL: '01/31/2027',
    });
  });

  it('fails a permanently deleted address permanently, naming why', async () => {
    const { listId, push } = env.audience({ deleteMode: 'delete' });
    const c = contact(1, 'gdpr@example.com');
    await push([upsert(c)]);
    await push([
      record({
        operation: 'archive',
        event: crmEvent('CRM_CONTACT_DELETED', c),
        entityId: '1',
        payload: payloadOf(c),
      }),
    ]);
    expect(env.sandbox.member(listId, 'gdpr@example.com')).toBeUndefined();
    const [again] = await push([upsert(contact(2, 'gdpr@example.com'))]);
    expect(errorResult(again)).toMatchObject({ kind: 'permanent', code: 'Forgotten Email Not Subscribed' });
  });

  it('archives a deleted contact’s member and brings an unsubscribed one back still unsubscribed', async () => {
    const { listId, push } = env.audience();
    const c = contact(1, 'back@example.com');
    await push([upsert(c)]);
    env.sandbox.setStatus(listId, 'back@example.com', 'unsubscribed');
    await push([
      record({
        operation: 'archive',
        event: crmEvent('CRM_CONTACT_ARCHIVED', c),
        entityId: '1',
        payload: payloadOf(c),
      }),
    ]);
    expect(env.sandbox.member(listId, 'back@example.com')?.status).toBe('archived');
    await push([upsert(c)]);
    expect(env.sandbox.member(listId, 'back@example.com')?.status).toBe('unsubscribed');
  });

  it('restores a member crm-sync archived to subscribed when its contact comes back, with its fields', async () => {
    const { listId, push } = env.audience();
    const c = contact(1, 'return@example.com');
    await push([upsert(c)]);
    const archive = record({
      operation: 'archive',
      event: crmEvent('CRM_CONTACT_ARCHIVED', c),
      entityId: '1',
      payload: payloadOf(c),
    });
    expect((await push([archive]))[0]).toMatchObject({ status: 'ok' });
    expect(env.sandbox.member(listId, 'return@example.com')?.status).toBe('archived');
    const [back] = await push([upsert(contact(1, 'return@example.com', { givenName: 'Ret' }))]);
    expect(okResult(back).state).toMatchObject({ status: 'subscribed' });
    expect(env.sandbox.member(listId, 'return@example.com')).toMatchObject({
      status: 'subscribed',
      merge_fields: { FNAME: 'Ret' },
    });
    // Archiving it twice over is not a failure: Mailchimp's 405 for an archived member is reported.
    expect((await push([archive]))[0]).toMatchObject({ status: 'ok' });
    expect((await push([archive]))[0]).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('405'),
    });
  });

  it('keeps a member that marketing archived in Mailchimp archived, while its fields follow the CRM', async () => {
    const { listId, push } = env.audience();
    await push([upsert(contact(1, 'shelved@example.com'))]);
    env.sandbox.audience(listId).archive('shelved@example.com');
    // New CRM tags wait: an archived member takes no tag changes.
    const [result] = await push([
      upsert(contact(1, 'shelved@example.com', { givenName: 'Shel', tags: ['vip'] })),
    ]);
    expect(okResult(result).state).toMatchObject({ status: 'archived' });
    expect(env.sandbox.member(listId, 'shelved@example.com')).toMatchObject({
      status: 'archived',
      merge_fields: { FNAME: 'Shel' },
    });
  });

  it('never adds back a linked member deleted in Mailchimp, not even at the contact’s new address', async () => {
    const { listId, push } = env.audience();
    await push([upsert(contact(1, 'forget-me@example.com'))]);
    env.sandbox.audience(listId).deletePermanently('forget-me@example.com');
    const [result] = await push([upsert(contact(1, 'new-me@example.com'))]);
    expect(errorResult(result)).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    expect(env.sandbox.member(listId, 'new-me@example.com')).toBeUndefined();
  });

  it('follows a member whose address the subscriber changed in Mailchimp, without undoing the change', async () => {
    const { listId, push } = env.audience();
    await push([upsert(contact(1, 'first@example.com'))]);
    const member = env.sandbox.audience(listId).find('first@example.com')!;
    env.sandbox.audience(listId).changeEmail(member, 'moved@example.com');
    env.sandbox.setStatus(listId, 'moved@example.com', 'unsubscribed');
    const [result] = await push([upsert(contact(1, 'first@example.com', { givenName: 'Firs' }))]);
    expect(okResult(result).state).toMatchObject({ email: 'moved@example.com', status: 'unsubscribed' });
    expect(env.sandbox.member(listId, 'moved@example.com')).toMatchObject({
      status: 'unsubscribed',
      merge_fields: { FNAME: 'Firs' },
    });
    // The old address was not re-created as a new, subscribed member.
    expect(env.sandbox.member(listId, 'first@example.com')).toBeUndefined();
  });

  it('updates many linked members in one batch run, each answer read back as a direct PATCH’s', async () => {
    const { listId, push, ctx } = env.audience();
    const people = Array.from({ length: 30 }, (_, i) => contact(i + 1, `batch${i}@example.com`));
    for (const result of await push(people.map((c) => upsert(c)))) okResult(result);
    env.sandbox.audience(listId).deletePermanently('batch7@example.com');
    env.sandbox.setStatus(listId, 'batch9@example.com', 'unsubscribed');
    const before = ctx.calls;
    const results = await push(
      people.map((c, i) =>
        upsert(contact(c.id, `batch${i}${i === 3 ? '.new' : ''}@example.com`, { givenName: `B${i}` })),
      ),
    );
    expect(errorResult(results[7])).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    expect(okResult(results[9]).state).toMatchObject({ status: 'unsubscribed' });
    expect(okResult(results[3]).state).toMatchObject({ email: 'batch3.new@example.com' });
    expect(results.filter((r) => r.status === 'ok')).toHaveLength(29);
    expect(env.sandbox.member(listId, 'batch12@example.com')?.merge_fields).toMatchObject({ FNAME: 'B12' });
    expect(env.sandbox.member(listId, 'batch3@example.com')).toBeUndefined();
    expect(env.sandbox.member(listId, 'batch9@example.com')).toMatchObject({
      status: 'unsubscribed',
      merge_fields: { FNAME: 'B9' },
    });
    // One submit, its status reads and one download, instead of 30 PATCHes.
    const calls = ctx.calls - before;
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(6);
    expect(env.sandbox.batches()).toHaveLength(1);
  });

  it('reaches observer@x.com in an audience whose id contains “server”', async () => {
    const { push, listId } = env.audience({}, undefined, 'observerserver');
    const [created] = await push([upsert(contact(1, 'observer@x.com'))]);
    okResult(created);
    const [updated] = await push([upsert(contact(1, 'observer@x.com', { givenName: 'Obi' }))]);
    okResult(updated);
    expect(env.sandbox.member(listId, 'observer@x.com')?.merge_fields).toMatchObject({ FNAME: 'Obi' });
  });

  it('fails one injected bad address in a batch and creates the rest', async () => {
    const { listId, push } = env.audience();
    env.sandbox.faults.failEmail('flagged@example.com', {
      title: 'Member In Compliance State',
      detail:
        'flagged@example.com is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.',
    });
    const results = await push([
      upsert(contact(1, 'fine@example.com')),
      upsert(contact(2, 'flagged@example.com')),
    ]);
    okResult(results[0]);
    expect(errorResult(results[1])).toMatchObject({ kind: 'permanent', code: 'Member In Compliance State' });
    expect(env.sandbox.member(listId, 'flagged@example.com')).toBeUndefined();
  });

  it('describes the audience’s merge fields as mapping targets and checks the audience', async () => {
    const { client, listId } = env.audience({}, [
      { tag: 'PLAN', name: 'Plan', type: 'dropdown', required: true, options: { choices: ['Free', 'Pro'] } },
      {
        tag: 'RENEWAL',
        name: 'Renewal',
        type: 'date',
        required: false,
        options: { date_format: 'MM/DD/YYYY' },
      },
    ]);
    expect(await client.describeFields('contact')).toEqual([
      { name: 'EMAIL', label: 'Email address', type: 'string', required: true },
      { name: 'PLAN', label: 'Plan', type: 'enumeration', options: ['Free', 'Pro'], required: true },
      { name: 'RENEWAL', label: 'Renewal', type: 'date', required: false },
    ]);
    expect(await client.describeFields('company')).toEqual([]);
    expect(await client.check()).toEqual({ ok: true, account: `audience "Audience ${listId}" (${listId})` });
  });

  it('applies an update and tag events of one contact in one batch in order, all reporting the final state', async () => {
    const { listId, push, links } = env.audience();
    const tagEvent = (
      type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED',
      tag: string,
      tags: string[],
    ) =>
      record({
        operation: type === 'CRM_CONTACT_TAG_ADDED' ? 'tag_add' : 'tag_remove',
        event: crmEvent(type, { ...contact(1, 'ada@example.com', { tags }), tag }),
        entityId: '1',
        payload: payloadOf(contact(1, 'ada@example.com')),
      });
    const results = await push([
      tagEvent('CRM_CONTACT_TAG_ADDED', 'first', ['first']),
      upsert(contact(1, 'ada@example.com', { tags: ['first', 'second'] })),
      tagEvent('CRM_CONTACT_TAG_ADDED', 'third', ['first', 'second', 'third']),
      tagEvent('CRM_CONTACT_TAG_REMOVED', 'first', ['second', 'third']),
    ]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(
      env.sandbox
        .member(listId, 'ada@example.com')
        ?.tags.map((t) => t.name)
        .sort(),
    ).toEqual(['second', 'third']);
    const states = results.map((r) => okResult(r).state?.tags);
    expect(new Set(states.map((t) => JSON.stringify(t)))).toEqual(
      new Set([JSON.stringify(['second', 'third'])]),
    );
    expect(links.get('contact:1')?.state.tags).toEqual(['second', 'third']);
  });

  it('writes a new contact once when a batch holds only its tag events', async () => {
    const { listId, push } = env.audience();
    const tagAdded = (tag: string, tags: string[]) =>
      record({
        operation: 'tag_add',
        event: crmEvent('CRM_CONTACT_TAG_ADDED', { ...contact(7, 'new@example.com', { tags }), tag }),
        entityId: '7',
        payload: payloadOf(contact(7, 'new@example.com')),
      });
    const results = await push([tagAdded('a', ['a']), tagAdded('b', ['a', 'b'])]);
    expect(results.map((r) => okResult(r).state?.tags)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(
      env.sandbox
        .member(listId, 'new@example.com')
        ?.tags.map((t) => t.name)
        .sort(),
    ).toEqual(['a', 'b']);
  });
});
