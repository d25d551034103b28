import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, harness, okResult, record } from './fixtures.js';
import { KEY_A, LIST, mailchimp, md5, memberAnswer, problem } from './nock-helpers.js';

useStrictNock();

const EMAIL = 'ada@example.com';
const HASH = md5(EMAIL);
const linkState = (tags: string[] = []) => ({
  listId: LIST,
  memberId: 'cid_ada',
  subscriberHash: HASH,
  email: EMAIL,
  status: 'subscribed',
  tags,
});
const tagRecord = (type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED', tag: string, tags: string[]) =>
  record({
    operation: type === 'CRM_CONTACT_TAG_ADDED' ? 'tag_add' : 'tag_remove',
    event: crmEvent(type, { ...contact(1, EMAIL), tag }),
    entityId: '1',
    externalId: 'cid_ada',
    state: linkState(tags),
  });

describe('Mailchimp tag requests', () => {
  const READ = 'fields=id%2Cemail_address%2Ccontact_id%2Cstatus%2Clast_changed%2Ctags';

  it('reads the member’s tags, sets a new CRM tag active at its contact_id, and records that the CRM owns it', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_ada?${READ}`)
      .reply(200, memberAnswer(EMAIL, { contact_id: 'cid_ada', tags: [{ id: 1, name: 'webinar' }] }))
      .post(`/3.0/lists/${LIST}/members/cid_ada/tags`, { tags: [{ name: 'vip', status: 'active' }] })
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([tagRecord('CRM_CONTACT_TAG_ADDED', 'vip', [])]);
    expect(okResult(result).state).toMatchObject({ tags: ['vip'] });
    scope.done();
  });

  it('does not take over a tag marketing already put on the member, so a later CRM removal leaves it', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/members/cid_ada?${READ}`)
      .reply(200, memberAnswer(EMAIL, { contact_id: 'cid_ada', tags: [{ id: 1, name: 'VIP' }] }));
    const h = harness({ listId: LIST }, KEY_A);
    const [added] = await h.push([tagRecord('CRM_CONTACT_TAG_ADDED', 'vip', [])]);
    expect(added).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('set outside the CRM'),
    });
    // No new link state: the link still owns no "vip", so a later CRM removal cannot delete it.
    expect(added).not.toHaveProperty('state');
    expect(h.ctx.calls).toBe(1);
    scope.done();
  });

  it('re-sends a tag the CRM already owns without reading the member (a replay)', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_ada/tags`, { tags: [{ name: 'vip', status: 'active' }] })
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([tagRecord('CRM_CONTACT_TAG_ADDED', 'vip', ['vip'])]);
    expect(okResult(result).state).toMatchObject({ tags: ['vip'] });
    scope.done();
  });

  it('sets a removed CRM tag inactive when the CRM set it', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_ada/tags`, { tags: [{ name: 'vip', status: 'inactive' }] })
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([tagRecord('CRM_CONTACT_TAG_REMOVED', 'vip', ['vip', 'beta'])]);
    expect(okResult(result).state).toMatchObject({ tags: ['beta'] });
    scope.done();
  });

  it('fails permanently (MEMBER_GONE) when the linked member was deleted in Mailchimp', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_ada/tags`)
      .reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'))
      // The audience is there: it is the member that is gone.
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(200, { id: LIST, name: 'Newsletter' });
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([tagRecord('CRM_CONTACT_TAG_REMOVED', 'vip', ['vip'])]);
    expect(result).toMatchObject({ status: 'error', error: { kind: 'permanent', code: 'MEMBER_GONE' } });
    scope.done();
  });

  it('leaves a tag the CRM did not set alone when the CRM removes one of that name', async () => {
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([tagRecord('CRM_CONTACT_TAG_REMOVED', 'webinar', ['vip'])]);
    expect(result).toEqual({
      status: 'skipped',
      reason: 'tag "webinar" was not set by the CRM, so it is left as it is',
    });
    expect(h.ctx.calls).toBe(0);
  });
});

describe('Mailchimp activity requests', () => {
  const activityRecord = (data: Record<string, unknown>, externalId: string | null = null) =>
    record({
      operation: 'activity',
      entityType: 'activity',
      entityId: String(data.id),
      event: crmEvent('CRM_ACTIVITY_CREATED', {
        contactId: 1,
        occurredAt: '2026-11-22T09:15:00.000Z',
        ...data,
      }),
      externalId,
    });

  it('adds a NOTE as a member note at the linked member’s contact_id', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_ada/notes`, { note: 'Prefers email' })
      .reply(200, { id: 31, note: 'Prefers email' });
    const h = harness({ listId: LIST }, KEY_A);
    h.links.set('contact:1', { externalId: 'cid_ada', state: linkState() });
    const [result] = await h.push([activityRecord({ id: 70, type: 'NOTE', content: 'Prefers email' })]);
    expect(okResult(result).externalId).toBe('note:31');
    scope.done();
  });

  it('sends other activities as events named from the prefix and type, with string properties', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_ada/events`, {
        name: 'sync_call',
        properties: { duration: '320', content: 'Renewal call', crm_activity_id: '71' },
        occurred_at: '2026-11-22T09:15:00.000Z',
        is_syncing: true,
      })
      .reply(204);
    const h = harness({ listId: LIST, eventPrefix: 'sync_', eventsTriggerAutomations: false }, KEY_A);
    h.links.set('contact:1', { externalId: 'cid_ada', state: linkState() });
    const [result] = await h.push([
      activityRecord({ id: 71, type: 'CALL', content: 'Renewal call', properties: { duration: 320 } }),
    ]);
    expect(okResult(result).externalId).toBe('event:71');
    scope.done();
  });

  it('adds nothing when a linked activity is replayed', async () => {
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([activityRecord({ id: 72, type: 'PAGE_VIEW' }, 'event:72')]);
    expect(okResult(result).externalId).toBe('event:72');
    expect(h.ctx.calls).toBe(0);
  });

  it('fails permanently (MEMBER_GONE) when the linked member was deleted, but retries one found by address only', async () => {
    const gone = problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/cid_ada/events`)
      .reply(404, gone)
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(200, { id: LIST, name: 'Newsletter' })
      .post(`/3.0/lists/${LIST}/members/${md5('new@example.com')}/events`)
      .reply(404, gone);
    const h = harness({ listId: LIST }, KEY_A);
    h.links.set('contact:1', { externalId: 'cid_ada', state: linkState() });
    const [linked] = await h.push([activityRecord({ id: 74, type: 'CALL' })]);
    expect(linked).toMatchObject({ status: 'error', error: { kind: 'permanent', code: 'MEMBER_GONE' } });
    const [byAddress] = await h.push([
      activityRecord({ id: 75, type: 'CALL', contactId: 2, properties: { email: 'new@example.com' } }),
    ]);
    expect(byAddress).toMatchObject({ status: 'error', error: { kind: 'retryable' } });
    scope.done();
  });

  it('asks for a retry when the activity’s contact has no member yet', async () => {
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([activityRecord({ id: 73, type: 'EMAIL', contactId: 99 })]);
    expect(result).toMatchObject({
      status: 'error',
      error: { kind: 'retryable', code: 'CONTACT_NOT_SYNCED' },
    });
    expect(h.ctx.calls).toBe(0);
  });
});

describe('Mailchimp list requests', () => {
  const listRecord = (
    type: 'CRM_LIST_MEMBER_ADDED' | 'CRM_LIST_MEMBER_REMOVED',
    listId: number,
    payload = {},
  ) =>
    record({
      operation: type === 'CRM_LIST_MEMBER_ADDED' ? 'list_add' : 'list_remove',
      entityType: 'list_membership',
      entityId: `${listId}:1`,
      event: crmEvent(type, { list: { id: listId, name: 'Customers' }, contact: contact(1, EMAIL) }),
      payload,
    });

  it('tags the member with the mapped list’s name', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/${HASH}/tags`, {
        tags: [{ name: 'Active Customers', status: 'active' }],
      })
      .reply(204)
      .post(`/3.0/lists/${LIST}/members/${HASH}/tags`, { tags: [{ name: 'Churned', status: 'inactive' }] })
      .reply(204);
    const h = harness({ listId: LIST, lists: [{ crmListId: 12, target: 'Active Customers' }] }, KEY_A);
    const results = await h.push([
      listRecord('CRM_LIST_MEMBER_ADDED', 12),
      listRecord('CRM_LIST_MEMBER_REMOVED', 13, { $listTarget: 'Churned' }),
    ]);
    expect(okResult(results[0]).externalId).toBe(`tag:Active Customers:${HASH}`);
    expect(okResult(results[1]).state).toMatchObject({ active: false, target: 'Churned' });
    scope.done();
  });

  it('adds members to a static segment per list, creating the segment once', async () => {
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/segments`)
      .query({ type: 'static', count: '1000', offset: '0' })
      .reply(200, { segments: [{ id: 5, name: 'Other' }] })
      .post(`/3.0/lists/${LIST}/segments`, { name: 'Active Customers', static_segment: [] })
      .reply(200, { id: 77, name: 'Active Customers' })
      .post(`/3.0/lists/${LIST}/segments/77`, { members_to_add: [EMAIL], members_to_remove: [] })
      .reply(200, { members_added: [{ email_address: EMAIL }], members_removed: [], errors: [] });
    const h = harness(
      { listId: LIST, listTarget: 'segment', lists: [{ crmListId: '12', target: 'Active Customers' }] },
      KEY_A,
    );
    const [result] = await h.push([listRecord('CRM_LIST_MEMBER_ADDED', 12)]);
    expect(okResult(result).externalId).toBe(`segment:Active Customers:${HASH}`);
    scope.done();
  });

  it('skips lists that are not mapped, saying which', async () => {
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([listRecord('CRM_LIST_MEMBER_ADDED', 44)]);
    expect(result).toEqual({
      status: 'skipped',
      reason:
        'CRM list 44 (Customers) is not mapped to a Mailchimp tag (map it in mappings.lists or settings.lists)',
    });
  });
});
