import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, PermanentError, RateLimitedError } from '../../errors.js';
import type { PushResult } from '../../types.js';
import { hubspot } from '../index.js';
import { contactData, event, hubspotContext, record, TOKEN } from './fixtures.js';
import {
  batchAnswer,
  expectAllDone,
  expectRequest,
  hsObject,
  hubspotError,
  resetNock,
} from './nock-hubspot.js';

const UPSERT = { file: 'contacts', template: '/crm/v3/objects/contacts/batch/upsert' };
const UPDATE = { file: 'contacts', template: '/crm/v3/objects/contacts/batch/update' };
const READ = { file: 'contacts', template: '/crm/v3/objects/contacts/batch/read' };

const client = (deleteMode: 'archive' | 'ignore' = 'ignore', links: Record<string, string> = {}) => {
  const ctx = hubspotContext({ deleteMode }, links);
  return { ctx, client: hubspot.createClient(ctx) };
};

const errorOf = (result: PushResult | undefined) => {
  if (result?.status !== 'error') throw new Error(`expected an error result, got ${JSON.stringify(result)}`);
  return result.error;
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => resetNock());
afterAll(() => nock.enableNetConnect());

describe('HubSpot contacts (exact requests)', () => {
  it('upserts unlinked contacts by email and updates linked ones by id, with string property values', async () => {
    const { ctx, client: hs } = client();
    const fresh = record(event('CRM_CONTACT_CREATED', contactData(1)), {
      payload: {
        email: 'Ada@Example.com',
        firstname: 'Ada',
        num_logins: 5,
        vip: true,
        crm_tags: ['a', 'b'],
        phone: null,
      },
    });
    const known = record(event('CRM_CONTACT_UPDATED', contactData(2)), {
      externalId: '501',
      payload: { email: 'user2@example.com', lastname: 'Lovelace' },
    });
    const update = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/update',
      {
        status: 200,
        body: batchAnswer([
          hsObject('501', { email: 'user2@example.com' }, { objectWriteTraceId: known.key }),
        ]),
      },
      { spec: UPDATE },
    );
    const upsert = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/upsert',
      {
        status: 200,
        body: batchAnswer([
          hsObject('601', { email: 'ada@example.com' }, { new: true, objectWriteTraceId: fresh.key }),
        ]),
      },
      { spec: UPSERT },
    );

    const results = await hs.push([fresh, known]);

    expect(update.bodies).toEqual([
      {
        inputs: [
          {
            id: '501',
            objectWriteTraceId: known.key,
            properties: { email: 'user2@example.com', lastname: 'Lovelace' },
          },
        ],
      },
    ]);
    expect(upsert.bodies).toEqual([
      {
        inputs: [
          {
            id: 'ada@example.com',
            idProperty: 'email',
            objectWriteTraceId: fresh.key,
            properties: {
              email: 'Ada@Example.com',
              firstname: 'Ada',
              num_logins: '5',
              vip: 'true',
              crm_tags: 'a;b',
              phone: '',
            },
          },
        ],
      },
    ]);
    expect(results).toEqual([
      { status: 'ok', externalId: '601', state: { companyIds: [], primaryCompanyId: null } },
      { status: 'ok', externalId: '501', state: { companyIds: [], primaryCompanyId: null } },
    ]);
    expect(ctx.calls).toBe(2);
    expectAllDone();
  });

  it('fails only the input HubSpot names in a VALIDATION_ERROR and resends the others once', async () => {
    const { ctx, client: hs } = client();
    const records = [1, 2, 3].map((i) =>
      record(event('CRM_CONTACT_CREATED', contactData(i)), {
        payload: { email: i === 2 ? 'ada@@x' : `user${i}@example.com` },
      }),
    );
    const problems = [
      { isValid: false, message: 'Email address ada@@x is invalid', error: 'INVALID_EMAIL', name: 'email' },
    ];
    const first = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/upsert',
      {
        status: 400,
        body: hubspotError('VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(problems)}`),
      },
      { spec: UPSERT },
    );
    const second = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/upsert',
      {
        status: 200,
        body: batchAnswer([
          hsObject('11', { email: 'user1@example.com' }, { new: true }),
          hsObject('13', { email: 'user3@example.com' }, { new: true }),
        ]),
      },
      { spec: UPSERT },
    );

    const results = await hs.push(records);

    expect((first.bodies[0] as { inputs: unknown[] }).inputs).toHaveLength(3);
    expect((second.bodies[0] as { inputs: { id: string }[] }).inputs.map((i) => i.id)).toEqual([
      'user1@example.com',
      'user3@example.com',
    ]);
    expect(results[0]).toMatchObject({ status: 'ok', externalId: '11' });
    expect(results[2]).toMatchObject({ status: 'ok', externalId: '13' });
    const error = errorOf(results[1]);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.status).toBe(400);
    expect(error.message).toContain('property "email" (INVALID_EMAIL): Email address ada@@x is invalid');
    expect(ctx.calls).toBe(2);
    expectAllDone();
  });

  it('links a contact HubSpot says already exists (its search index lagging) to that id and updates it', async () => {
    const { client: hs } = client();
    const a = record(event('CRM_CONTACT_CREATED', contactData(1)), {
      payload: { email: 'user1@example.com', firstname: 'A' },
    });
    const b = record(event('CRM_CONTACT_CREATED', contactData(2)), {
      payload: { email: 'user2@example.com', firstname: 'B' },
    });
    expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/upsert',
      {
        status: 409,
        body: hubspotError('CONFLICT', 'Contact already exists. Existing ID: 777'),
      },
      { spec: UPSERT },
    );
    const read = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/read',
      {
        status: 200,
        body: batchAnswer([hsObject('777', { email: 'user2@example.com' })]),
      },
      { spec: READ },
    );
    const update = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/update',
      {
        status: 200,
        body: batchAnswer([hsObject('777', { email: 'user2@example.com' })]),
      },
      { spec: UPDATE },
    );
    const retry = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/upsert',
      {
        status: 200,
        body: batchAnswer([hsObject('12', { email: 'user1@example.com' }, { new: true })]),
      },
      { spec: UPSERT },
    );

    const results = await hs.push([a, b]);

    expect(read.bodies).toEqual([
      { inputs: [{ id: '777' }], properties: ['email'], propertiesWithHistory: [] },
    ]);
    expect(update.bodies).toEqual([
      {
        inputs: [
          {
            id: '777',
            objectWriteTraceId: b.key,
            properties: { email: 'user2@example.com', firstname: 'B' },
          },
        ],
      },
    ]);
    expect((retry.bodies[0] as { inputs: { id: string }[] }).inputs.map((i) => i.id)).toEqual([
      'user1@example.com',
    ]);
    expect(results.map((r) => r.status === 'ok' && r.externalId)).toEqual(['12', '777']);
    expectAllDone();
  });

  it('falls back to the email when a link points to a record HubSpot no longer has', async () => {
    const { client: hs } = client();
    const stale = record(event('CRM_CONTACT_UPDATED', contactData(3)), {
      externalId: '404404',
      payload: { email: 'user3@example.com' },
    });
    expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/update',
      {
        status: 404,
        body: hubspotError(
          'OBJECT_NOT_FOUND',
          'Could not get some CONTACT objects, they may be deleted or not exist.',
          {
            context: { ids: ['404404'] },
          },
        ),
      },
      { spec: UPDATE },
    );
    const upsert = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/upsert',
      {
        status: 200,
        body: batchAnswer([hsObject('909', { email: 'user3@example.com' }, { new: false })]),
      },
      { spec: UPSERT },
    );

    const [result] = await hs.push([stale]);

    expect(upsert.bodies).toEqual([
      {
        inputs: [
          {
            id: 'user3@example.com',
            idProperty: 'email',
            objectWriteTraceId: stale.key,
            properties: { email: 'user3@example.com' },
          },
        ],
      },
    ]);
    expect(result).toMatchObject({ status: 'ok', externalId: '909' });
    expectAllDone();
  });

  it("merges two linked contacts with HubSpot's merge, winner primary, and re-points the loser", async () => {
    const { ctx, client: hs } = client('ignore', { 'contact:8': '502' });
    const merged = record(event('CRM_CONTACT_MERGED', { winner: contactData(7), loserId: 8 }), {
      operation: 'merge',
      externalId: '501',
      payload: { email: 'user7@example.com' },
    });
    const merge = expectRequest(
      'post',
      '/crm/v3/objects/contacts/merge',
      { status: 200, body: hsObject('501') },
      {
        spec: { file: 'contacts', template: '/crm/v3/objects/contacts/merge' },
      },
    );
    const update = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/update',
      {
        status: 200,
        body: batchAnswer([hsObject('501', { email: 'user7@example.com' })]),
      },
      { spec: UPDATE },
    );

    const [result] = await hs.push([merged]);

    expect(merge.bodies).toEqual([{ primaryObjectId: '501', objectIdToMerge: '502' }]);
    expect((update.bodies[0] as { inputs: { id: string }[] }).inputs[0]?.id).toBe('501');
    expect(result).toEqual({
      status: 'ok',
      externalId: '501',
      state: { companyIds: [], primaryCompanyId: null },
      mergedFrom: { entityId: '8' },
    });
    expect(ctx.calls).toBe(2);
    expectAllDone();
  });

  it('with only the loser linked, updates and links that record to the winner without merging', async () => {
    const { client: hs } = client('ignore', { 'contact:8': '502' });
    const merged = record(event('CRM_CONTACT_MERGED', { winner: contactData(7), loserId: 8 }), {
      operation: 'merge',
      payload: { email: 'user7@example.com' },
    });
    const update = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/update',
      {
        status: 200,
        body: batchAnswer([hsObject('502', { email: 'user7@example.com' })]),
      },
      { spec: UPDATE },
    );

    const [result] = await hs.push([merged]);

    expect((update.bodies[0] as { inputs: { id: string }[] }).inputs[0]?.id).toBe('502');
    expect(result).toMatchObject({ status: 'ok', externalId: '502', mergedFrom: { entityId: '8' } });
    expectAllDone();
  });

  it('archives deleted contacts when deleteMode is archive, and leaves HubSpot alone by default', async () => {
    const deleted = record(event('CRM_CONTACT_DELETED', contactData(4, { status: 'DELETED' })), {
      operation: 'archive',
      externalId: '504',
    });
    const archive = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/archive',
      { status: 204 },
      {
        spec: { file: 'contacts', template: '/crm/v3/objects/contacts/batch/archive' },
      },
    );
    const archiving = client('archive');
    expect(await archiving.client.push([deleted])).toEqual([
      { status: 'ok', externalId: '504', state: { archived: true } },
    ]);
    expect(archive.bodies).toEqual([{ inputs: [{ id: '504' }] }]);
    expectAllDone();

    const ignoring = client('ignore');
    expect(await ignoring.client.push([deleted])).toEqual([
      { status: 'skipped', reason: 'settings.deleteMode is ignore: HubSpot record kept' },
    ]);
    expect(ignoring.ctx.calls).toBe(0);
  });

  it('throws a rate-limit error for the whole batch on a TEN_SECONDLY_ROLLING 429', async () => {
    const { client: hs } = client();
    expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 429,
      body: {
        status: 'error',
        message: 'You have reached your ten_secondly_rolling limit.',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
      },
    });
    const push = hs.push([
      record(event('CRM_CONTACT_CREATED', contactData(5)), { payload: { email: 'user5@example.com' } }),
    ]);
    await expect(push).rejects.toBeInstanceOf(RateLimitedError);
    await expect(push).rejects.toMatchObject({ scope: 'window', retryAfterMs: 10_000 });
    expectAllDone();
  });

  it('reports the daily quota from the rate-limit headers of each answer', async () => {
    const { ctx, client: hs } = client();
    expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 200,
      body: batchAnswer([hsObject('21', { email: 'user6@example.com' }, { new: true })]),
      headers: {
        'X-HubSpot-RateLimit-Daily': '250000',
        'X-HubSpot-RateLimit-Daily-Remaining': '4999',
        'X-HubSpot-RateLimit-Remaining': '79',
      },
    });
    await hs.push([
      record(event('CRM_CONTACT_CREATED', contactData(6)), { payload: { email: 'user6@example.com' } }),
    ]);
    expect(ctx.quotas).toHaveLength(1);
    expect(ctx.quotas[0]).toMatchObject({ dailyMax: 250_000, dailyRemaining: 4999 });
    expect(ctx.quotas[0]?.resetsAt?.getTime()).toBeGreaterThan(Date.now());
    expectAllDone();
  });

  it('throws an auth error on a 401 that never carries the token', async () => {
    const { client: hs } = client();
    expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 401,
      body: hubspotError('INVALID_AUTHENTICATION', 'Authentication credentials not found.'),
    });
    const error = await hs
      .push([
        record(event('CRM_CONTACT_CREATED', contactData(7)), { payload: { email: 'user7@example.com' } }),
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(
      JSON.stringify({ message: (error as Error).message, body: (error as AuthError).body }),
    ).not.toContain(TOKEN);
    expectAllDone();
  });

  it('refuses a contact with neither a link nor an email without calling HubSpot', async () => {
    const { ctx, client: hs } = client();
    const [result] = await hs.push([
      record(event('CRM_CONTACT_CREATED', { id: 9 }), { payload: { firstname: 'Nobody' } }),
    ]);
    expect(errorOf(result)).toMatchObject({ kind: 'permanent', code: 'NO_EMAIL' });
    expect(ctx.calls).toBe(0);
  });
});
