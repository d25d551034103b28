import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, errorResult, harness, okResult, record } from './fixtures.js';
import { KEY_A, LIST, mailchimp, md5, memberAnswer } from './nock-helpers.js';

/**
 * The requests behind CRM lists as static segments, where Mailchimp's answers say less than they
 * seem to: collections come a page at a time, and a segment update leaves out, without an error,
 * the addresses it did not add.
 */
useStrictNock();

const EMAIL = 'ada@example.com';
const HASH = md5(EMAIL);
const SEGMENTS = `/3.0/lists/${LIST}/segments`;
const settings = {
  listId: LIST,
  listTarget: 'segment' as const,
  lists: [{ crmListId: '12', target: 'Active Customers' }],
};
const added = (type: 'CRM_LIST_MEMBER_ADDED' | 'CRM_LIST_MEMBER_REMOVED' = 'CRM_LIST_MEMBER_ADDED') =>
  record({
    operation: type === 'CRM_LIST_MEMBER_ADDED' ? 'list_add' : 'list_remove',
    entityType: 'list_membership',
    entityId: '12:1',
    event: crmEvent(type, { list: { id: 12, name: 'Customers' }, contact: contact(1, EMAIL) }),
  });
const segmentsPage = (offset: number, segments: { id: number; name: string }[], total: number) =>
  mailchimp()
    .get(SEGMENTS)
    .query({ type: 'static', count: '1000', offset: String(offset) })
    .reply(200, { segments, total_items: total });
const memberRead = () =>
  mailchimp()
    .get(`/3.0/lists/${LIST}/members/${HASH}`)
    .query({ fields: 'id,email_address,contact_id,status,last_changed,tags' });

describe('Mailchimp collection reads', () => {
  it('reads every page of the merge fields, by offset, until total_items', async () => {
    const field = (tag: string) => ({ tag, name: tag, type: 'text', options: {} });
    // Mailchimp may answer fewer than asked for: the next page starts where this one ended.
    const scope = mailchimp()
      .get(`/3.0/lists/${LIST}/merge-fields`)
      .query({ count: '1000', offset: '0' })
      .reply(200, { merge_fields: [field('FNAME'), field('LNAME')], total_items: 3 })
      .get(`/3.0/lists/${LIST}/merge-fields`)
      .query({ count: '1000', offset: '2' })
      .reply(200, { merge_fields: [field('PLAN')], total_items: 3 });
    const fields = await harness({ listId: LIST }, KEY_A).client.describeFields('contact');
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['FNAME', 'LNAME', 'PLAN']));
    scope.done();
  });

  it('finds a list’s segment on a later page of segments instead of creating it again', async () => {
    const first = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, name: `Campaign ${i}` }));
    const scope = segmentsPage(0, first, 1001);
    segmentsPage(1000, [{ id: 4242, name: 'Active Customers' }], 1001);
    mailchimp()
      .post(`${SEGMENTS}/4242`, { members_to_add: [EMAIL], members_to_remove: [] })
      .reply(200, { members_added: [{ email_address: EMAIL }], members_removed: [], errors: [] });
    const [result] = await harness(settings, KEY_A).push([added()]);
    expect(okResult(result).externalId).toBe(`segment:Active Customers:${HASH}`);
    scope.done();
  });

  it('reads the segments again when creating one is refused for its name, and uses the one found', async () => {
    segmentsPage(0, [], 0);
    mailchimp().post(SEGMENTS, { name: 'Active Customers', static_segment: [] }).reply(400, {
      title: 'Invalid Resource',
      status: 400,
      detail: 'A segment or tag named "Active Customers" already exists.',
    });
    segmentsPage(0, [{ id: 9, name: 'active customers' }], 1);
    mailchimp()
      .post(`${SEGMENTS}/9`, { members_to_add: [EMAIL], members_to_remove: [] })
      .reply(200, { members_added: [{ email_address: EMAIL }], members_removed: [], errors: [] });
    const [result] = await harness(settings, KEY_A).push([added()]);
    okResult(result);
  });

  it('makes a segment again when it was deleted in Mailchimp after being read, instead of pausing the integration', async () => {
    const h = harness(settings, KEY_A);
    segmentsPage(0, [{ id: 7, name: 'Active Customers' }], 1);
    mailchimp()
      .post(`${SEGMENTS}/7`)
      .reply(200, { members_added: [{ email_address: EMAIL }], members_removed: [], errors: [] });
    okResult((await h.push([added()]))[0]);
    // Marketing deletes the tag; the directory still knows id 7.
    mailchimp().post(`${SEGMENTS}/7`).reply(404, {
      title: 'Resource Not Found',
      status: 404,
      detail: 'The requested resource could not be found.',
    });
    segmentsPage(0, [], 0);
    mailchimp().post(SEGMENTS, { name: 'Active Customers', static_segment: [] }).reply(200, {
      id: 8,
      name: 'Active Customers',
      type: 'static',
    });
    mailchimp()
      .post(`${SEGMENTS}/8`, { members_to_add: [EMAIL], members_to_remove: [] })
      .reply(200, { members_added: [{ email_address: EMAIL }], members_removed: [], errors: [] });
    okResult((await h.push([added()]))[0]);
  });
});

describe('Mailchimp segment member answers', () => {
  const update = (
    answer: Record<string, unknown>,
    body: Record<string, string[]> = { members_to_add: [EMAIL], members_to_remove: [] },
  ) => {
    segmentsPage(0, [{ id: 7, name: 'Active Customers' }], 1);
    mailchimp().post(`${SEGMENTS}/7`, body).reply(200, answer);
  };
  const nothingDone = { members_added: [], members_removed: [], errors: [], total_added: 0, error_count: 0 };

  it('asks for a retry when Mailchimp ignored the address because it is not in the audience', async () => {
    update(nothingDone);
    memberRead().reply(404, {
      title: 'Resource Not Found',
      status: 404,
      detail: 'The requested resource could not be found.',
    });
    const [result] = await harness(settings, KEY_A).push([added()]);
    expect(errorResult(result)).toMatchObject({ kind: 'retryable', code: 'CONTACT_NOT_SYNCED' });
  });

  it('asks for a retry when the member it ignored is archived', async () => {
    update(nothingDone);
    memberRead().reply(200, memberAnswer(EMAIL, { status: 'archived' }));
    const [result] = await harness(settings, KEY_A).push([added()]);
    expect(errorResult(result)).toMatchObject({ kind: 'retryable', code: 'CONTACT_NOT_SYNCED' });
  });

  it('counts an add as done when the member already carries the segment (a replay)', async () => {
    update(nothingDone);
    memberRead().reply(200, memberAnswer(EMAIL, { tags: [{ id: 7, name: 'Active Customers' }] }));
    const [result] = await harness(settings, KEY_A).push([added()]);
    expect(okResult(result).state).toMatchObject({ target: 'Active Customers', active: true });
  });

  it('counts a removal Mailchimp did not report as done, without reading the member', async () => {
    update(nothingDone, { members_to_add: [], members_to_remove: [EMAIL] });
    const [result] = await harness(settings, KEY_A).push([added('CRM_LIST_MEMBER_REMOVED')]);
    expect(okResult(result).state).toMatchObject({ active: false });
  });

  it('fails the address an answer lists among its errors, and only that one', async () => {
    update({
      ...nothingDone,
      errors: [{ email_addresses: [EMAIL], error: 'Email address is in compliance state' }],
    });
    const [result] = await harness(settings, KEY_A).push([added()]);
    expect(errorResult(result)).toMatchObject({ kind: 'permanent', code: 'SEGMENT_MEMBER_REJECTED' });
  });
});
