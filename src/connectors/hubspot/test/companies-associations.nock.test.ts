import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hubspot } from '../index.js';
import { contactData, event, hubspotContext, record } from './fixtures.js';
import { batchAnswer, expectAllDone, expectRequest, hsObject, resetNock } from './nock-hubspot.js';

const SEARCH = { file: 'companies', template: '/crm/v3/objects/companies/search' };
const CREATE = { file: 'companies', template: '/crm/v3/objects/companies/batch/create' };
const UPDATE = { file: 'companies', template: '/crm/v3/objects/companies/batch/update' };
const ASSOCIATE = {
  file: 'associations-v4',
  template: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create',
};
const DISSOCIATE = {
  file: 'associations-v4',
  template: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive',
};
const HUBSPOT_DEFINED = (associationTypeId: number) => ({
  associationCategory: 'HUBSPOT_DEFINED',
  associationTypeId,
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => resetNock());
afterAll(() => nock.enableNetConnect());

describe('HubSpot companies (exact requests)', () => {
  it('matches unlinked companies by domain through the search API, updates the found ones and creates the rest', async () => {
    const ctx = hubspotContext({});
    const hs = hubspot.createClient(ctx);
    const known = record(
      event('CRM_COMPANY_CREATED', { id: 1, name: 'Acme', domain: 'https://www.Acme.com/' }),
      {
        entityType: 'company',
        payload: { name: 'Acme', domain: 'acme.com', industry: 'COMPUTER_SOFTWARE' },
      },
    );
    const fresh = record(event('CRM_COMPANY_CREATED', { id: 2, name: 'Initech', domain: 'initech.io' }), {
      entityType: 'company',
      payload: { name: 'Initech', domain: 'https://www.Initech.io/' },
    });
    const search = expectRequest(
      'post',
      '/crm/v3/objects/companies/search',
      {
        status: 200,
        body: {
          total: 2,
          results: [hsObject('41', { domain: 'acme.com' }), hsObject('40', { domain: 'ACME.com' })],
        },
      },
      { spec: SEARCH },
    );
    const update = expectRequest(
      'post',
      '/crm/v3/objects/companies/batch/update',
      {
        status: 200,
        body: batchAnswer([hsObject('40', { domain: 'acme.com' })]),
      },
      { spec: UPDATE },
    );
    const create = expectRequest(
      'post',
      '/crm/v3/objects/companies/batch/create',
      {
        status: 201,
        body: batchAnswer([hsObject('42', { domain: 'initech.io' }, { objectWriteTraceId: fresh.key })]),
      },
      { spec: CREATE },
    );

    const results = await hs.push([known, fresh]);

    expect(search.bodies).toEqual([
      {
        filterGroups: [
          { filters: [{ propertyName: 'domain', operator: 'IN', values: ['acme.com', 'initech.io'] }] },
        ],
        properties: ['domain'],
        sorts: ['hs_object_id'],
        limit: 200,
        after: '0',
      },
    ]);
    expect(update.bodies).toEqual([
      {
        inputs: [
          {
            id: '40',
            objectWriteTraceId: known.key,
            properties: { name: 'Acme', domain: 'acme.com', industry: 'COMPUTER_SOFTWARE' },
          },
        ],
      },
    ]);
    expect(create.bodies).toEqual([
      {
        inputs: [
          {
            objectWriteTraceId: fresh.key,
            properties: { name: 'Initech', domain: 'initech.io' },
            associations: [],
          },
        ],
      },
    ]);
    expect(results).toEqual([
      { status: 'ok', externalId: '40', state: {} },
      { status: 'ok', externalId: '42', state: {} },
    ]);
    expect(ctx.kinds).toEqual(['search', undefined, undefined]);
    expectAllDone();
  });

  it('per-input errors of a multi-status create fail only those companies', async () => {
    const hs = hubspot.createClient(hubspotContext({}));
    const good = record(event('CRM_COMPANY_CREATED', { id: 3, name: 'Good' }), {
      entityType: 'company',
      payload: { name: 'Good' },
    });
    const bad = record(event('CRM_COMPANY_CREATED', { id: 4, name: 'Bad' }), {
      entityType: 'company',
      payload: { name: 'Bad', industry: 'SPACESHIPS' },
    });
    expectRequest(
      'post',
      '/crm/v3/objects/companies/batch/create',
      {
        status: 207,
        body: batchAnswer(
          [hsObject('43', { name: 'Good' }, { objectWriteTraceId: good.key })],
          [
            {
              status: 'error',
              category: 'VALIDATION_ERROR',
              message: 'SPACESHIPS was not one of the allowed options',
              context: { objectWriteTraceId: [bad.key] },
              errors: [],
              links: {},
            },
          ],
        ),
      },
      { spec: CREATE },
    );

    const [ok, failed] = await hs.push([good, bad]);

    expect(ok).toMatchObject({ status: 'ok', externalId: '43' });
    expect(failed).toMatchObject({ status: 'error', error: { kind: 'permanent', code: 'VALIDATION_ERROR' } });
    expectAllDone();
  });
});

describe('HubSpot contact-company associations (exact requests)', () => {
  it('associates a contact with its linked companies, the primary one flagged with type 1', async () => {
    const ctx = hubspotContext({}, { 'company:9': '900', 'company:10': '1000' });
    const hs = hubspot.createClient(ctx);
    const contact = record(
      event(
        'CRM_CONTACT_UPDATED',
        contactData(1, {
          companies: [
            { id: 9, isPrimary: true },
            { id: 10, isPrimary: false },
          ],
        }),
      ),
      { externalId: '501', payload: { email: 'user1@example.com' } },
    );
    expectRequest('post', '/crm/v3/objects/contacts/batch/update', {
      status: 200,
      body: batchAnswer([hsObject('501')]),
    });
    const associate = expectRequest(
      'post',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        status: 201,
        body: batchAnswer([]),
      },
      { spec: ASSOCIATE },
    );

    const [result] = await hs.push([contact]);

    expect(associate.bodies).toEqual([
      {
        inputs: [
          { from: { id: '501' }, to: { id: '900' }, types: [HUBSPOT_DEFINED(279), HUBSPOT_DEFINED(1)] },
          { from: { id: '501' }, to: { id: '1000' }, types: [HUBSPOT_DEFINED(279)] },
        ],
      },
    ]);
    expect(result).toMatchObject({
      status: 'ok',
      externalId: '501',
      state: { companyIds: ['900', '1000'], primaryCompanyId: '900' },
    });
    expectAllDone();
  });

  it('sends no association request when the companies did not change', async () => {
    const ctx = hubspotContext({}, { 'company:9': '900' });
    const hs = hubspot.createClient(ctx);
    const contact = record(
      event('CRM_CONTACT_UPDATED', contactData(1, { companies: [{ id: 9, isPrimary: true }] })),
      {
        externalId: '501',
        payload: { email: 'user1@example.com' },
        state: { companyIds: ['900'], primaryCompanyId: '900' },
      },
    );
    expectRequest('post', '/crm/v3/objects/contacts/batch/update', {
      status: 200,
      body: batchAnswer([hsObject('501')]),
    });
    await hs.push([contact]);
    expect(ctx.calls).toBe(1);
    expectAllDone();
  });

  it('removes the association on CRM_CONTACT_COMPANY_DISSOCIATED without rewriting the contact', async () => {
    const ctx = hubspotContext({}, { 'company:9': '900' });
    const hs = hubspot.createClient(ctx);
    const dissociated = record(
      event('CRM_CONTACT_COMPANY_DISSOCIATED', {
        ...contactData(1, { companies: [{ id: 9 }] }),
        company: { id: 9 },
      }),
      { operation: 'dissociate', externalId: '501', state: { companyIds: ['900'], primaryCompanyId: null } },
    );
    const archive = expectRequest(
      'post',
      '/crm/v4/associations/contacts/companies/batch/archive',
      { status: 204 },
      {
        spec: DISSOCIATE,
      },
    );

    const [result] = await hs.push([dissociated]);

    expect(archive.bodies).toEqual([{ inputs: [{ from: { id: '501' }, to: [{ id: '900' }] }] }]);
    expect(result).toMatchObject({
      status: 'ok',
      externalId: '501',
      state: { companyIds: [], primaryCompanyId: null },
    });
    expect(ctx.calls).toBe(1);
    expectAllDone();
  });

  it('finds or creates an unlinked company by domain on CRM_CONTACT_COMPANY_ASSOCIATED and links it', async () => {
    const ctx = hubspotContext({});
    const hs = hubspot.createClient(ctx);
    const associated = record(
      event('CRM_CONTACT_COMPANY_ASSOCIATED', {
        ...contactData(1),
        company: { id: 12, name: 'Globex', domain: 'globex.com' },
        isPrimary: true,
      }),
      { operation: 'associate', externalId: '501' },
    );
    expectRequest(
      'post',
      '/crm/v3/objects/companies/search',
      { status: 200, body: { total: 0, results: [] } },
      { spec: SEARCH },
    );
    const create = expectRequest(
      'post',
      '/crm/v3/objects/companies/batch/create',
      {
        status: 201,
        body: batchAnswer([hsObject('1200', { domain: 'globex.com' }, { objectWriteTraceId: 'company-12' })]),
      },
      { spec: CREATE },
    );
    const associate = expectRequest(
      'post',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        status: 201,
        body: batchAnswer([]),
      },
      { spec: ASSOCIATE },
    );

    const [result] = await hs.push([associated]);

    expect(create.bodies).toEqual([
      {
        inputs: [
          {
            objectWriteTraceId: 'company-12',
            properties: { name: 'Globex', domain: 'globex.com' },
            associations: [],
          },
        ],
      },
    ]);
    expect(associate.bodies).toEqual([
      {
        inputs: [
          { from: { id: '501' }, to: { id: '1200' }, types: [HUBSPOT_DEFINED(279), HUBSPOT_DEFINED(1)] },
        ],
      },
    ]);
    expect(result).toMatchObject({
      status: 'ok',
      externalId: '501',
      extraLinks: [{ entityType: 'company', entityId: '12', externalId: '1200' }],
    });
    expectAllDone();
  });
});
