import type nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, harness, okResult, payloadOf, record } from './fixtures.js';
import { basic, KEY_A, KEY_B, mailchimp, memberAnswer, mergeFields } from './nock-helpers.js';

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

describe('two Mailchimp integrations in one process', () => {
  it('never send each other’s credentials, even interleaved', async () => {
    const seen: { list: string; authorization: string }[] = [];
    const answer = (list: string) =>
      function (this: nock.ReplyFnContext, _uri: string, body: nock.Body) {
        seen.push({ list, authorization: String(this.req.headers.authorization) });
        const members = (body as { members: { email_address: string }[] }).members;
        return [200, { new_members: members.map((m) => memberAnswer(m.email_address)) }] as [number, unknown];
      };
    const a = mergeFields(mailchimp(KEY_A), undefined, 'listA')
      .post('/3.0/lists/listA')
      .times(3)
      .reply(answer('listA'));
    const b = mergeFields(mailchimp(KEY_B), undefined, 'listB')
      .post('/3.0/lists/listB')
      .times(3)
      .reply(answer('listB'));
    const first = harness({ listId: 'listA' }, KEY_A);
    const second = harness({ listId: 'listB' }, KEY_B);

    const pushes = [1, 2, 3].flatMap((n) => [
      first.push([create(n, `a${n}@example.com`)]),
      second.push([create(n, `b${n}@example.com`)]),
    ]);
    for (const results of await Promise.all(pushes)) okResult(results[0]);

    expect(seen).toHaveLength(6);
    for (const request of seen) {
      expect(request.authorization).toBe(basic(request.list === 'listA' ? KEY_A : KEY_B));
    }
    a.done();
    b.done();
  });
});
