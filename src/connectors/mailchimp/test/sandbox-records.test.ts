import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, crmEvent, okResult, payloadOf, record } from './fixtures.js';
import { startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const upsert = (c: ReturnType<typeof contact>) =>
  record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_CREATED', c),
    entityId: String(c.id),
    payload: payloadOf(c),
  });
const activity = (id: number, data: Record<string, unknown>) =>
  record({
    operation: 'activity',
    entityType: 'activity',
    entityId: String(id),
    event: crmEvent('CRM_ACTIVITY_CREATED', {
      id,
      contactId: 1,
      occurredAt: '2026-11-22T09:00:00.000Z',
      ...data,
    }),
  });
const membership = (
  type: 'CRM_LIST_MEMBER_ADDED' | 'CRM_LIST_MEMBER_REMOVED',
  listId: number,
  c: ReturnType<typeof contact>,
) =>
  record({
    operation: type === 'CRM_LIST_MEMBER_ADDED' ? 'list_add' : 'list_remove',
    entityType: 'list_membership',
    entityId: `${listId}:${c.id}`,
    event: crmEvent(type, { list: { id: listId, name: 'Customers' }, contact: c }),
  });

describe('activities, lists and merges in the Mailchimp sandbox', () => {
  it('adds notes and events for a contact created in the same batch, and nothing twice on replay', async () => {
    const { listId, push, ctx } = env.audience();
    const records = [
      upsert(contact(1, 'ada@example.com')),
      activity(10, { type: 'NOTE', content: 'Met at the conference' }),
      activity(11, { type: 'CUSTOM_EVENT', properties: { name: 'trial started', plan: 'pro' } }),
    ];
    const first = await push(records);
    first.forEach(okResult);
    const callsAfterFirst = ctx.calls;
    const again = await push(records.slice(1));
    again.forEach(okResult);
    expect(ctx.calls).toBe(callsAfterFirst);
    const member = env.sandbox.member(listId, 'ada@example.com');
    expect(member?.notes.map((n) => n.note)).toEqual(['Met at the conference']);
    expect(member?.events).toEqual([
      {
        name: 'crm_trial_started',
        properties: { name: 'trial started', plan: 'pro', crm_activity_id: '11' },
        occurred_at: '2026-11-22T09:00:00.000Z',
        is_syncing: false,
      },
    ]);
  });

  it('mirrors mapped CRM lists as member tags', async () => {
    const { listId, push } = env.audience({ lists: [{ crmListId: 12, target: 'Active Customers' }] });
    const c = contact(1, 'ada@example.com');
    await push([upsert(c), membership('CRM_LIST_MEMBER_ADDED', 12, c)]);
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags.map((t) => t.name)).toEqual([
      'Active Customers',
    ]);
    await push([membership('CRM_LIST_MEMBER_REMOVED', 12, c)]);
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags).toEqual([]);
  });

  it('mirrors mapped CRM lists as static segments, 500 members a call', async () => {
    const { listId, push, ctx } = env.audience({
      listTarget: 'segment',
      lists: [{ crmListId: 12, target: 'Active Customers' }],
    });
    const contacts = Array.from({ length: 600 }, (_, i) => contact(i + 1, `m${i}@example.com`));
    await push(contacts.slice(0, 300).map(upsert));
    await push(contacts.slice(300).map(upsert));
    const before = ctx.calls;
    const results = await push(contacts.map((c) => membership('CRM_LIST_MEMBER_ADDED', 12, c)));
    results.forEach(okResult);
    // Segments listed, one created, then two member calls of ≤ 500.
    expect(ctx.calls - before).toBe(4);
    const audience = env.sandbox.audience(listId);
    const segment = [...audience.segments.values()][0];
    expect(segment?.name).toBe('Active Customers');
    expect(audience.segmentMembers(segment!)).toHaveLength(600);
  });

  it('finds the segment of a list past the first 1,000 tags instead of creating a second', async () => {
    const { listId, push, ctx } = env.audience({
      listTarget: 'segment',
      lists: [{ crmListId: 12, target: 'Active Customers' }],
    });
    const audience = env.sandbox.audience(listId);
    for (let i = 0; i < 1002; i++) audience.tagNamed(`Campaign ${i}`);
    const existing = audience.tagNamed('Active Customers');
    const c = contact(1, 'ada@example.com');
    await push([upsert(c)]);
    env.sandbox.traffic.reset();
    const before = ctx.calls;
    const [result] = await push([membership('CRM_LIST_MEMBER_ADDED', 12, c)]);
    okResult(result);
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags).toEqual([existing]);
    // Two pages of segments, then the member call: nothing created.
    expect(env.sandbox.traffic.log.map((e) => `${e.method} ${e.path}`)).toEqual([
      `GET /lists/${listId}/segments`,
      `GET /lists/${listId}/segments`,
      `POST /lists/${listId}/segments/${existing.id}`,
    ]);
    expect(ctx.calls - before).toBe(3);
  });

  it('uses a tag someone created after the segments were read, instead of failing on its name', async () => {
    const { listId, push } = env.audience({
      listTarget: 'segment',
      lists: [
        { crmListId: 12, target: 'Active Customers' },
        { crmListId: 13, target: 'Webinar' },
      ],
    });
    const [ada, bob] = [contact(1, 'ada@example.com'), contact(2, 'bob@example.com')];
    await push([upsert(ada), upsert(bob)]);
    okResult((await push([membership('CRM_LIST_MEMBER_ADDED', 12, ada)]))[0]);
    // Marketing tags someone "webinar" in Mailchimp: that is a static segment of that name now.
    const audience = env.sandbox.audience(listId);
    audience.setTags(audience.live('bob@example.com'), [{ name: 'webinar', status: 'active' }]);
    const [result] = await push([membership('CRM_LIST_MEMBER_ADDED', 13, ada)]);
    expect(okResult(result).state).toMatchObject({ target: 'Webinar', active: true });
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags.map((t) => t.name)).toEqual([
      'Active Customers',
      'webinar',
    ]);
  });

  it('reports a replayed segment add as done once the member is seen in the segment', async () => {
    const { listId, push } = env.audience({
      listTarget: 'segment',
      lists: [{ crmListId: 12, target: 'Later' }],
    });
    const c = contact(1, 'ada@example.com');
    await push([upsert(c)]);
    okResult((await push([membership('CRM_LIST_MEMBER_ADDED', 12, c)]))[0]);
    env.sandbox.traffic.reset();
    const [again] = await push([membership('CRM_LIST_MEMBER_ADDED', 12, c)]);
    expect(okResult(again).state).toMatchObject({ target: 'Later', active: true });
    // Mailchimp's answer leaves an address already in the segment out, as it does one not in the
    // audience: the member read tells them apart.
    expect(env.sandbox.traffic.log.map((e) => e.method)).toEqual(['POST', 'GET']);
    expect(env.sandbox.member(listId, 'ada@example.com')?.tags.map((t) => t.name)).toEqual(['Later']);
  });

  it('retries a list membership whose contact is not in the audience yet', async () => {
    const { push } = env.audience({ listTarget: 'segment', lists: [{ crmListId: 12, target: 'Later' }] });
    const [result] = await push([membership('CRM_LIST_MEMBER_ADDED', 12, contact(9, 'notyet@example.com'))]);
    expect(result).toMatchObject({
      status: 'error',
      error: { kind: 'retryable', code: 'CONTACT_NOT_SYNCED' },
    });
  });

  it('keeps the winner of a merge and archives the loser’s member', async () => {
    const { listId, push, links } = env.audience();
    const winner = contact(1, 'winner@example.com');
    const loser = contact(2, 'loser@example.com');
    await push([upsert(winner), upsert(loser)]);
    const [merged] = await push([
      record({
        operation: 'merge',
        event: crmEvent('CRM_CONTACT_MERGED', { winner: { ...winner, givenName: 'Both' }, loserId: 2 }),
        entityId: '1',
        payload: payloadOf({ ...winner, givenName: 'Both' }),
      }),
    ]);
    expect(okResult(merged).mergedFrom).toEqual({ entityId: '2' });
    expect(env.sandbox.member(listId, 'winner@example.com')?.merge_fields).toMatchObject({ FNAME: 'Both' });
    expect(env.sandbox.member(listId, 'loser@example.com')?.status).toBe('archived');
    expect(links.has('contact:2')).toBe(false);
  });
});
