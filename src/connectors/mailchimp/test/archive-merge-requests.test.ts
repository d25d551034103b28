import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, harness, okResult, payloadOf, record } from './fixtures.js';
import { KEY_A, LIST, mailchimp, md5, memberAnswer, mergeFields, problem } from './nock-helpers.js';

useStrictNock();

const cid = (email: string) => `cid_${md5(email).slice(0, 8)}`;
const state = (email: string) => ({
  listId: LIST,
  memberId: cid(email),
  subscriberHash: md5(email),
  email,
  status: 'subscribed',
  tags: [],
});
const archived = (email: string, linked = true) =>
  record({
    operation: 'archive',
    event: crmEvent('CRM_CONTACT_DELETED', contact(1, email, { status: 'DELETED' })),
    entityId: '1',
    payload: { EMAIL: email },
    ...(linked ? { externalId: cid(email), state: state(email) } : {}),
  });

describe('Mailchimp archive requests', () => {
  it('archives the linked member of an archived or deleted contact at its contact_id by default, remembering its status', async () => {
    const scope = mailchimp()
      .delete(`/3.0/lists/${LIST}/members/${cid('a@example.com')}`)
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([archived('a@example.com')]);
    expect(okResult(result).state).toMatchObject({ status: 'archived', restoreStatus: 'subscribed' });
    scope.done();
  });

  it('reports a member Mailchimp cannot archive (405: pending, cleaned or already archived) as skipped, not failed', async () => {
    const scope = mailchimp()
      .delete(`/3.0/lists/${LIST}/members/${cid('a@example.com')}`)
      .reply(
        405,
        problem(405, 'Method Not Allowed', 'This list member cannot be removed.  Please contact support.'),
      );
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([archived('a@example.com')]);
    expect(result).toMatchObject({ status: 'skipped', reason: expect.stringContaining('405') });
    scope.done();
  });

  it('counts a member that is already gone as archived', async () => {
    const scope = mailchimp()
      .delete(`/3.0/lists/${LIST}/members/${md5('a@example.com')}`)
      .reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'));
    const h = harness({ listId: LIST }, KEY_A);
    okResult((await h.push([archived('a@example.com', false)]))[0]);
    scope.done();
  });

  it('deletes permanently only when deleteMode says so', async () => {
    const scope = mailchimp()
      .post(`/3.0/lists/${LIST}/members/${cid('a@example.com')}/actions/delete-permanent`)
      .reply(204);
    const h = harness({ listId: LIST, deleteMode: 'delete' }, KEY_A);
    expect(okResult((await h.push([archived('a@example.com')]))[0]).state).toMatchObject({
      status: 'deleted',
    });
    scope.done();
  });

  it('leaves the member in place when deleteMode is ignore', async () => {
    const h = harness({ listId: LIST, deleteMode: 'ignore' }, KEY_A);
    expect((await h.push([archived('a@example.com')]))[0]).toMatchObject({ status: 'skipped' });
    expect(h.ctx.calls).toBe(0);
  });
});

describe('Mailchimp merge requests', () => {
  it('updates the winner, archives the loser’s member and reports the loser for re-pointing', async () => {
    const winner = contact(1, 'winner@example.com');
    const scope = mergeFields(mailchimp())
      .patch(
        `/3.0/lists/${LIST}/members/${cid('winner@example.com')}`,
        (body) => !('email_address' in body) && !('status' in body),
      )
      .reply(200, memberAnswer('winner@example.com'))
      .delete(`/3.0/lists/${LIST}/members/${cid('loser@example.com')}`)
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    h.links.set('contact:2', { externalId: cid('loser@example.com'), state: state('loser@example.com') });
    const [result] = await h.push([
      record({
        operation: 'merge',
        event: crmEvent('CRM_CONTACT_MERGED', { winner, loserId: 2, loserEmail: 'loser@example.com' }),
        entityId: '1',
        payload: payloadOf(winner),
        externalId: cid('winner@example.com'),
        state: state('winner@example.com'),
      }),
    ]);
    expect(okResult(result)).toMatchObject({
      externalId: memberAnswer('winner@example.com').contact_id,
      mergedFrom: { entityId: '2' },
    });
    expect(h.links.has('contact:2')).toBe(false);
    scope.done();
  });

  it('does not archive the loser when both CRM duplicates are linked to the member the winner just moved', async () => {
    const winner = contact(1, 'moved@example.com');
    const shared = cid('first@example.com');
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/${shared}`, (body) => body.email_address === 'moved@example.com')
      .reply(200, memberAnswer('moved@example.com', { contact_id: shared }));
    let deleted = false;
    mailchimp()
      .delete(`/3.0/lists/${LIST}/members/${shared}`)
      .optionally()
      .reply(() => {
        deleted = true;
        return [204];
      });
    const h = harness({ listId: LIST }, KEY_A);
    h.links.set('contact:2', { externalId: shared, state: state('first@example.com') });
    const [result] = await h.push([
      record({
        operation: 'merge',
        event: crmEvent('CRM_CONTACT_MERGED', { winner, loserId: 2, loserEmail: 'first@example.com' }),
        entityId: '1',
        payload: payloadOf(winner),
        externalId: shared,
        state: state('first@example.com'),
      }),
    ]);
    // No DELETE: archiving the loser's member would archive the winner's.
    expect(deleted).toBe(false);
    expect(okResult(result)).toMatchObject({ externalId: shared, mergedFrom: { entityId: '2' } });
    scope.done();
  });

  it('does not archive the loser when it shares the winner’s address', async () => {
    const winner = contact(1, 'same@example.com');
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/${cid('same@example.com')}`)
      .reply(200, memberAnswer('same@example.com'));
    const h = harness({ listId: LIST }, KEY_A);
    const [result] = await h.push([
      record({
        operation: 'merge',
        event: crmEvent('CRM_CONTACT_MERGED', { winner, loserId: 2, loserEmail: 'SAME@example.com' }),
        entityId: '1',
        payload: payloadOf(winner),
        externalId: cid('same@example.com'),
        state: state('same@example.com'),
      }),
    ]);
    expect(okResult(result).mergedFrom).toEqual({ entityId: '2' });
    scope.done();
  });
});
