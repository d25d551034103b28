import { Client } from '@hubspot/api-client';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../errors.js';
import { hubspot } from '../index.js';
import { contactData, event, hubspotContext, record } from './fixtures.js';
import { BASE, batchAnswer, expectAllDone, expectRequest, hsObject, resetNock } from './nock-hubspot.js';

const property = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  label: name,
  type: 'string',
  fieldType: 'text',
  groupName: 'contactinformation',
  description: '',
  options: [],
  ...extra,
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => resetNock());
afterAll(() => nock.enableNetConnect());

describe('the HubSpot field catalog', () => {
  it('describes HubSpot properties with their types, enumeration options and writability', async () => {
    const hs = hubspot.createClient(hubspotContext({}));
    expectRequest('get', '/crm/v3/properties/contacts?archived=false', {
      status: 200,
      body: {
        results: [
          property('email'),
          property('lifecyclestage', {
            type: 'enumeration',
            fieldType: 'radio',
            options: [
              { label: 'Lead', value: 'lead', hidden: false },
              { label: 'Old', value: 'old', hidden: true },
            ],
          }),
          property('hs_object_id', {
            type: 'number',
            fieldType: 'number',
            modificationMetadata: { readOnlyValue: true, readOnlyDefinition: true, archivable: false },
          }),
          property('newsletter', {
            type: 'enumeration',
            fieldType: 'booleancheckbox',
            options: [{ label: 'Yes', value: 'true', hidden: false }],
          }),
          property('score', { type: 'number', fieldType: 'calculation_equation', calculated: true }),
          property('mobile', { type: 'phone_number', fieldType: 'phonenumber' }),
        ],
      },
    });

    expect(await hs.describeFields('contact')).toEqual([
      { name: 'email', label: 'email', type: 'string', options: undefined, readOnly: undefined },
      {
        name: 'lifecyclestage',
        label: 'lifecyclestage',
        type: 'enumeration',
        options: ['lead'],
        readOnly: undefined,
      },
      { name: 'hs_object_id', label: 'hs_object_id', type: 'number', options: undefined, readOnly: true },
      { name: 'newsletter', label: 'newsletter', type: 'boolean', options: ['true'], readOnly: undefined },
      { name: 'score', label: 'score', type: 'number', options: undefined, readOnly: true },
      { name: 'mobile', label: 'mobile', type: 'phone', options: undefined, readOnly: undefined },
      {
        name: '$properties',
        label: 'CRM custom properties, each to the HubSpot property of the same name when it exists',
        type: 'json',
      },
    ]);
    expect(await hs.describeFields('list_membership')).toEqual([]);
    expectAllDone();
  });

  it('creates mapped properties HubSpot lacks in a crm_sync group when createMissingProperties is on', async () => {
    const hs = hubspot.createClient(hubspotContext({ createMissingProperties: true }));
    expectRequest('get', '/crm/v3/properties/contacts?archived=false', {
      status: 200,
      body: { results: [property('email')] },
    });
    expectRequest('get', '/crm/v3/properties/contacts/groups/crm_sync', {
      status: 404,
      body: {
        status: 'error',
        message: 'Unable to find property group crm_sync',
        correlationId: 'x',
        category: 'OBJECT_NOT_FOUND',
      },
    });
    const group = expectRequest(
      'post',
      '/crm/v3/properties/contacts/groups',
      {
        status: 201,
        body: { name: 'crm_sync', label: 'CRM sync', displayOrder: -1, archived: false },
      },
      { spec: { file: 'properties', template: '/crm/v3/properties/{objectType}/groups' } },
    );
    const created = expectRequest(
      'post',
      '/crm/v3/properties/contacts/batch/create',
      {
        status: 201,
        body: batchAnswer([property('crm_plan_tier', { groupName: 'crm_sync' })]),
      },
      { spec: { file: 'properties', template: '/crm/v3/properties/{objectType}/batch/create' } },
    );
    expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 200,
      body: batchAnswer([hsObject('601', { email: 'user1@example.com' }, { new: true })]),
    });

    const [result] = await hs.push([
      record(event('CRM_CONTACT_CREATED', contactData(1)), {
        payload: { email: 'user1@example.com', crm_plan_tier: 'gold' },
      }),
    ]);

    expect(group.bodies).toEqual([{ name: 'crm_sync', label: 'CRM sync', displayOrder: -1 }]);
    expect(created.bodies).toEqual([
      {
        inputs: [
          {
            name: 'crm_plan_tier',
            label: 'Crm plan tier',
            type: 'string',
            fieldType: 'text',
            groupName: 'crm_sync',
          },
        ],
      },
    ]);
    expect(result).toMatchObject({ status: 'ok', externalId: '601' });
    expectAllDone();
  });

  it('creates a missing property once when two pushes at once set it', async () => {
    const hs = hubspot.createClient(hubspotContext({ createMissingProperties: true }));
    expectRequest('get', '/crm/v3/properties/contacts?archived=false', {
      status: 200,
      body: { results: [property('email')] },
    });
    expectRequest('get', '/crm/v3/properties/contacts/groups/crm_sync', {
      status: 200,
      body: { name: 'crm_sync', label: 'CRM sync', displayOrder: -1, archived: false },
    });
    const created = expectRequest('post', '/crm/v3/properties/contacts/batch/create', {
      status: 201,
      body: batchAnswer([property('crm_plan_tier', { groupName: 'crm_sync' })]),
    });
    const upserts = [601, 602].map((id, i) =>
      expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
        status: 200,
        body: batchAnswer([hsObject(String(id), { email: `user${i + 1}@example.com` }, { new: true })]),
      }),
    );

    const results = await Promise.all(
      [1, 2].map((n) =>
        hs.push([
          record(event('CRM_CONTACT_CREATED', contactData(n)), {
            payload: { email: `user${n}@example.com`, crm_plan_tier: 'gold' },
          }),
        ]),
      ),
    );

    expect(created.bodies).toHaveLength(1);
    expect(upserts.map((u) => u.bodies.length)).toEqual([1, 1]);
    expect(results.flat().map((r) => r.status)).toEqual(['ok', 'ok']);
    expectAllDone();
  });
});

describe('the CRM custom properties', () => {
  it('are written to the HubSpot properties of the same name that exist and are writable, the rest left out', async () => {
    const ctx = hubspotContext({});
    const hs = hubspot.createClient(ctx);
    expectRequest('get', '/crm/v3/properties/contacts?archived=false', {
      status: 200,
      body: {
        results: [
          property('email'),
          property('mrr', { type: 'number', fieldType: 'number' }),
          property('plan'),
          property('hs_object_id', {
            modificationMetadata: { readOnlyValue: true, readOnlyDefinition: true, archivable: false },
          }),
        ],
      },
    });
    const upsert = expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 200,
      body: batchAnswer([
        hsObject('601', { email: 'user1@example.com' }, { new: true }),
        hsObject('602', { email: 'user2@example.com' }, { new: true }),
      ]),
    });
    const payload = (i: number, custom: Record<string, unknown>) => ({
      email: `user${i}@example.com`,
      plan: 'mapped',
      $properties: custom,
    });

    await hs.push([
      record(event('CRM_CONTACT_CREATED', contactData(1)), {
        payload: payload(1, { mrr: 12, plan: 'custom', favourite_colour: 'teal', hs_object_id: '9' }),
      }),
      record(event('CRM_CONTACT_CREATED', contactData(2)), { payload: payload(2, {}) }),
    ]);

    const inputs = (upsert.bodies[0] as { inputs: { properties: Record<string, string> }[] }).inputs;
    expect(inputs.map((i) => i.properties)).toEqual([
      { email: 'user1@example.com', plan: 'mapped', mrr: '12' },
      { email: 'user2@example.com', plan: 'mapped' },
    ]);
    expect(ctx.calls).toBe(2);
    expectAllDone();
  });

  it('cost no catalog request when no record carries any', async () => {
    const ctx = hubspotContext({});
    const hs = hubspot.createClient(ctx);
    expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 200,
      body: batchAnswer([hsObject('603', { email: 'user3@example.com' }, { new: true })]),
    });
    await hs.push([
      record(event('CRM_CONTACT_CREATED', contactData(3)), {
        payload: { email: 'user3@example.com', $properties: {} },
      }),
    ]);
    expect(ctx.calls).toBe(1);
    expectAllDone();
  });
});

describe("the SDK's process-wide decorators", () => {
  it('stay off for this connector even when another Client in the process turns on retries and a limiter', async () => {
    const ctx = hubspotContext({});
    const hs = hubspot.createClient(ctx);
    // Another part of the process builds an SDK client with retries and a limiter that would
    // never let a request through (an empty reservoir): neither may touch our requests.
    const other = new Client({
      accessToken: 'other',
      numberOfApiCallRetries: 6,
      limiterOptions: { reservoir: 0 },
    });
    void other.crm.contacts;

    let requests = 0;
    nock(BASE)
      .post('/crm/v3/objects/contacts/batch/upsert')
      .times(7)
      .reply(() => {
        requests += 1;
        return [502, { status: 'error', message: 'Bad gateway', category: 'INTERNAL_ERROR' }];
      });
    const push = hs.push([
      record(event('CRM_CONTACT_CREATED', contactData(1)), { payload: { email: 'user1@example.com' } }),
    ]);

    // One request, answered once: no SDK retry, no SDK limiter (which would never have sent it).
    await expect(push).rejects.toBeInstanceOf(RetryableError);
    expect(requests).toBe(1);
    expect(ctx.calls).toBe(1);
  });
});
