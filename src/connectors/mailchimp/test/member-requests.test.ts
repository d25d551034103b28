import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, harness, okResult, payloadOf, record } from './fixtures.js';
import { API, KEY_A, LIST, mailchimp, md5, memberAnswer, mergeFields, problem } from './nock-helpers.js';

useStrictNock();

const upsert = (
  c: ReturnType<typeof contact>,
  payload: Record<string, unknown>,
  link: Partial<{ externalId: string; state: Record<string, unknown> }> = {},
) =>
  record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_UPDATED', c),
    entityId: String(c.id),
    payload,
    ...link,
  });

const linkState = (email: string, extra: Record<string, unknown> = {}) => ({
  listId: LIST,
  memberId: `cid_${md5(email).slice(0, 8)}`,
  subscriberHash: md5(email),
  email,
  status: 'subscribed',
  tags: [],
  ...extra,
});

describe('Mailchimp member requests', () => {
  it('creates unlinked contacts in one batch subscribe, with typed merge fields and tags, never updating existing members', async () => {
    const scope = mergeFields(mailchimp(), [
      { tag: 'FNAME', type: 'text' },
      { tag: 'BDAY', type: 'birthday', options: { date_format: 'DD/MM' } },
      { tag: 'SIGNUP', type: 'date', options: { date_format: 'DD/MM/YYYY' } },
      { tag: 'PLAN', type: 'dropdown', options: { choices: ['Free', 'Pro'] } },
      { tag: 'SEATS', type: 'number' },
      { tag: 'PHONE', type: 'phone', options: { phone_format: 'US' } },
    ])
      .post(`/3.0/lists/${LIST}`, {
        members: [
          {
            email_address: 'ada@example.com',
            status: 'subscribed',
            merge_fields: {
              FNAME: 'Ada',
              BDAY: '10/12',
              SIGNUP: '01/03/2026',
              PLAN: 'Pro',
              SEATS: 12,
              PHONE: '415-555-0100',
            },
            tags: ['vip'],
          },
          { email_address: 'grace@example.com', status: 'subscribed', merge_fields: { FNAME: 'Grace' } },
        ],
        update_existing: false,
        sync_tags: false,
      })
      .reply(200, {
        new_members: [
          memberAnswer('grace@example.com'),
          memberAnswer('ada@example.com', { tags: [{ id: 1, name: 'vip' }] }),
        ],
        updated_members: [],
        errors: [],
      });
    const h = harness({ listId: LIST }, KEY_A);
    const ada = contact(1, 'ada@example.com', { tags: ['vip'] });
    const grace = contact(2, 'grace@example.com');
    const results = await h.push([
      upsert(ada, {
        EMAIL: 'ada@example.com',
        FNAME: 'Ada',
        BDAY: '1815-12-10',
        SIGNUP: '2026-03-01T09:00:00Z',
        PLAN: 'pro',
        SEATS: '12',
        PHONE: '(415) 555-0100',
      }),
      upsert(grace, { EMAIL: 'grace@example.com', FNAME: 'Grace' }),
    ]);
    expect(okResult(results[0])).toEqual({
      status: 'ok',
      externalId: `cid_${md5('ada@example.com').slice(0, 8)}`,
      state: {
        listId: LIST,
        memberId: `cid_${md5('ada@example.com').slice(0, 8)}`,
        subscriberHash: md5('ada@example.com'),
        email: 'ada@example.com',
        status: 'subscribed',
        tags: ['vip'],
        lastChanged: '2026-11-22T10:30:05+00:00',
        crmEmail: 'ada@example.com',
      },
    });
    expect(okResult(results[1]).externalId).toBe(`cid_${md5('grace@example.com').slice(0, 8)}`);
    expect(h.ctx.calls).toBe(2);
    scope.done();
  });

  it('updates a linked member with PATCH at its contact_id, never sending a status or an unchanged address', async () => {
    const email = 'ada@example.com';
    const cid = `cid_${md5(email).slice(0, 8)}`;
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/${cid}`, { merge_fields: { FNAME: 'Ada', LNAME: 'King' } })
      .reply(200, memberAnswer(email, { status: 'unsubscribed' }));
    const h = harness({ listId: LIST, statusIfNew: 'pending' }, KEY_A);
    const c = contact(1, email);
    const [result] = await h.push([
      upsert(c, payloadOf({ ...c, familyName: 'King' }), { externalId: cid, state: linkState(email) }),
    ]);
    // The member's own unsubscribe is what the link now remembers, for the pull side.
    expect(okResult(result).state).toMatchObject({
      status: 'unsubscribed',
      subscriberHash: md5(email),
      crmEmail: email,
    });
    scope.done();
  });

  it('never re-creates a linked member deleted in Mailchimp: a permanent MEMBER_GONE, no PUT', async () => {
    const email = 'forgotten@example.com';
    const cid = `cid_${md5(email).slice(0, 8)}`;
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/${cid}`)
      .reply(404, problem(404, 'Resource Not Found', 'The requested resource could not be found.'))
      // The audience is there, so it is the member that is gone.
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(200, { id: LIST, name: 'Newsletter' });
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(1, 'renamed@example.com');
    const [result] = await h.push([upsert(c, payloadOf(c), { externalId: cid, state: linkState(email) })]);
    expect(result).toMatchObject({ status: 'error', error: { kind: 'permanent', code: 'MEMBER_GONE' } });
    // The PATCH and the audience read: nothing was created at the new address.
    expect(h.ctx.calls).toBe(3);
    scope.done();
  });

  it('pauses on a deleted audience instead of dead-lettering every linked member as gone', async () => {
    const gone = problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    const scope = mergeFields(mailchimp())
      .patch(/\/3\.0\/lists\/list1\/members\/cid_\d$/)
      .times(2)
      .reply(404, gone)
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(404, gone);
    const h = harness({ listId: LIST, batchUpdatesFrom: 0 }, KEY_A);
    const records = [1, 2].map((i) => {
      const c = contact(i, `p${i}@example.com`);
      return upsert(c, payloadOf(c), {
        externalId: `cid_${i}`,
        state: linkState(`p${i}@example.com`, { memberId: `cid_${i}` }),
      });
    });
    const error = await h.push(records).then(
      (results) => results.map((r) => (r.status === 'error' ? r.error.kind : r.status)),
      (thrown: { kind?: string }) => thrown.kind,
    );
    // One read of the audience for the whole push, and a config error: the integration pauses.
    expect(JSON.stringify(error)).toContain('config');
    expect(JSON.stringify(error)).not.toContain('permanent');
    scope.done();
  });

  it('does not undo an address the subscriber changed in Mailchimp when the CRM’s address did not change', async () => {
    const cid = 'cid_moved';
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/${cid}`, (body) => !('email_address' in body))
      .reply(200, memberAnswer('moved@example.com', { contact_id: cid }));
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(1, 'ada@example.com');
    const [result] = await h.push([
      upsert(c, payloadOf(c), {
        externalId: cid,
        state: linkState('moved@example.com', { memberId: cid, crmEmail: 'ada@example.com' }),
      }),
    ]);
    expect(okResult(result).state).toMatchObject({ email: 'moved@example.com', crmEmail: 'ada@example.com' });
    scope.done();
  });

  it('restores a member crm-sync archived to the status it had, and leaves one archived in Mailchimp archived', async () => {
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/cid_back`, (body) => body.status === 'subscribed')
      .reply(200, memberAnswer('back@example.com', { contact_id: 'cid_back' }))
      .patch(`/3.0/lists/${LIST}/members/cid_kept`, (body) => !('status' in body))
      .reply(200, memberAnswer('kept@example.com', { contact_id: 'cid_kept', status: 'archived' }));
    const h = harness({ listId: LIST }, KEY_A);
    const back = contact(1, 'back@example.com');
    const kept = contact(2, 'kept@example.com');
    const results = await h.push([
      upsert(back, payloadOf(back), {
        externalId: 'cid_back',
        state: linkState('back@example.com', {
          memberId: 'cid_back',
          status: 'archived',
          restoreStatus: 'subscribed',
        }),
      }),
      upsert(kept, payloadOf(kept), {
        externalId: 'cid_kept',
        state: linkState('kept@example.com', { memberId: 'cid_kept', status: 'archived' }),
      }),
    ]);
    expect(okResult(results[0]).state).toMatchObject({ status: 'subscribed' });
    expect(okResult(results[1]).state).toMatchObject({ status: 'archived' });
    scope.done();
  });

  it('writes a member that batch subscribe reports as existing with a PUT, leaving its status alone', async () => {
    const email = 'existing@example.com';
    const scope = mergeFields(mailchimp())
      .post(`/3.0/lists/${LIST}`, (body) => body.update_existing === false && body.members.length === 1)
      .reply(200, {
        new_members: [],
        updated_members: [],
        errors: [
          {
            email_address: email,
            error: `${email} is already a list member, do you want to update? please provide update_existing:true in the request body`,
            error_code: 'ERROR_CONTACT_EXISTS',
          },
        ],
      })
      .put(`/3.0/lists/${LIST}/members/${md5(email)}`, {
        email_address: email,
        status_if_new: 'subscribed',
        merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
      })
      .reply(200, memberAnswer(email, { status: 'cleaned', tags: [{ id: 3, name: 'webinar' }] }))
      .post(`/3.0/lists/${LIST}/members/${md5(email)}/tags`, { tags: [{ name: 'vip', status: 'active' }] })
      .reply(204);
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(5, email, { tags: ['vip', 'webinar'] });
    const [result] = await h.push([upsert(c, payloadOf(c))]);
    // webinar was already on the member (marketing's), so the CRM does not claim it.
    expect(okResult(result).state).toMatchObject({ status: 'cleaned', tags: ['vip'] });
    scope.done();
  });

  it('does not restore a member crm-sync archived for an update of a contact that is not active', async () => {
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/cid_gone`, (body) => !('status' in body))
      .reply(200, memberAnswer('gone@example.com', { contact_id: 'cid_gone', status: 'archived' }));
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(1, 'gone@example.com', { status: 'ARCHIVED' });
    const [result] = await h.push([
      upsert(c, payloadOf(c), {
        externalId: 'cid_gone',
        state: linkState('gone@example.com', {
          memberId: 'cid_gone',
          status: 'archived',
          restoreStatus: 'subscribed',
        }),
      }),
    ]);
    expect(okResult(result).state).toMatchObject({ status: 'archived' });
    scope.done();
  });

  it('changes a linked member’s email by PATCHing it at its contact_id, keeping the same member', async () => {
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/cid_same`, {
        email_address: 'new@example.com',
        merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' },
      })
      .reply(200, memberAnswer('new@example.com', { contact_id: 'cid_same' }));
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(1, 'new@example.com');
    const [result] = await h.push([
      upsert(c, payloadOf(c), {
        externalId: 'cid_same',
        state: linkState('old@example.com', { memberId: 'cid_same' }),
      }),
    ]);
    expect(okResult(result)).toMatchObject({
      externalId: 'cid_same',
      state: { subscriberHash: md5('new@example.com'), email: 'new@example.com' },
    });
    scope.done();
  });

  it('puts contact ids and hashes in paths, never emails, so an address or base URL containing “server” is never rewritten', async () => {
    const email = 'observer@x.com';
    const base = 'http://mailchimp-server.test';
    const scope = mergeFields(mailchimp(KEY_A, base), undefined, 'serverlist')
      .patch('/3.0/lists/serverlist/members/cid_1', (body) => body.email_address === email)
      .reply(200, memberAnswer(email));
    const h = harness({ listId: 'serverlist', baseUrl: `${base}/3.0` }, KEY_A);
    const c = contact(1, email);
    const [result] = await h.push([
      upsert(c, payloadOf(c), {
        externalId: 'cid_1',
        state: { ...linkState('old@x.com'), memberId: 'cid_1', listId: 'serverlist' },
      }),
    ]);
    expect(okResult(result).state).toMatchObject({ email });
    scope.done();
  });

  it('creates a missing merge field with the value’s type when allowed, then sends it', async () => {
    const scope = mergeFields(mergeFields(mailchimp()))
      .post(`/3.0/lists/${LIST}/merge-fields`, {
        tag: 'MRR',
        name: 'MRR',
        type: 'number',
        required: false,
        public: false,
      })
      .reply(200, { merge_id: 9, tag: 'MRR', name: 'MRR', type: 'number', options: {} })
      .post(`/3.0/lists/${LIST}`, (body) => body.members[0].merge_fields.MRR === 99.5)
      .reply(200, { new_members: [memberAnswer('ada@example.com')], updated_members: [], errors: [] });
    const h = harness({ listId: LIST, createMissingMergeFields: true }, KEY_A);
    const c = contact(1, 'ada@example.com');
    const [result] = await h.push([upsert(c, { EMAIL: c.email, MRR: 99.5 })]);
    okResult(result);
    scope.done();
  });

  it('reports a merge field the audience lacks as a config error naming it, and skips the default mapping’s optional ones', async () => {
    const scope = mergeFields(mergeFields(mailchimp()))
      .post(
        `/3.0/lists/${LIST}`,
        (body) => body.members.length === 1 && body.members[0].merge_fields.LIFECYCLE === undefined,
      )
      .reply(200, { new_members: [memberAnswer('b@example.com')], updated_members: [], errors: [] });
    const h = harness({ listId: LIST }, KEY_A);
    const a = contact(1, 'a@example.com');
    const b = contact(2, 'b@example.com');
    const results = await h.push([
      upsert(a, { EMAIL: a.email, MRR: 5 }),
      upsert(b, { EMAIL: b.email, FNAME: 'B', LIFECYCLE: 'LEAD', COMPANY: 'Acme' }),
    ]);
    expect(results[0]).toMatchObject({
      status: 'error',
      error: {
        kind: 'config',
        code: 'UNKNOWN_MERGE_FIELD',
        message: expect.stringContaining('merge field MRR does not exist in audience list1'),
      },
    });
    okResult(results[1]);
    scope.done();
  });

  it('rejects a value that does not fit its merge field without sending the record', async () => {
    const scope = mergeFields(mailchimp(), [{ tag: 'SEATS', type: 'number' }]);
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(1, 'a@example.com');
    const [result] = await h.push([upsert(c, { EMAIL: c.email, SEATS: 'many' })]);
    expect(result).toMatchObject({
      status: 'error',
      error: {
        kind: 'permanent',
        code: 'INVALID_MERGE_FIELD',
        message: expect.stringContaining('SEATS (number): expected a number, got "many"'),
      },
    });
    expect(h.ctx.calls).toBe(1);
    scope.done();
  });

  it('skips a contact without an email address', async () => {
    const scope = mergeFields(mailchimp());
    const h = harness({ listId: LIST }, KEY_A);
    const c = contact(1, '', { email: null });
    const [result] = await h.push([upsert(c, { FNAME: 'Ada' })]);
    expect(result).toEqual({
      status: 'skipped',
      reason: 'the contact has no email address, which a Mailchimp member needs',
    });
    scope.done();
  });

  it('reads the merge field catalog once for several pushes', async () => {
    const scope = mergeFields(mailchimp())
      .post(`/3.0/lists/${LIST}`)
      .times(2)
      .reply(200, (_uri, body) => ({
        new_members: (body as { members: { email_address: string }[] }).members.map((m) =>
          memberAnswer(m.email_address),
        ),
      }));
    const h = harness({ listId: LIST }, KEY_A);
    await h.push([upsert(contact(1, 'a@example.com'), { EMAIL: 'a@example.com' })]);
    await h.push([upsert(contact(2, 'b@example.com'), { EMAIL: 'b@example.com' })]);
    expect(h.ctx.calls).toBe(3);
    scope.done();
  });

  it('points at the key’s data center by default', async () => {
    const scope = nock(API)
      .get(`/3.0/lists/${LIST}`)
      .query({ fields: 'id,name' })
      .reply(200, { id: LIST, name: 'Newsletter' });
    const h = harness({ listId: LIST }, KEY_A);
    expect(await h.client.check()).toEqual({ ok: true, account: 'audience "Newsletter" (list1)' });
    scope.done();
  });
});
