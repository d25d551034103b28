import { AssociationTypes } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorClient, PushResult } from '../../types.js';
import { hubspot } from '../index.js';
import { HubSpotSandbox } from '../sandbox/index.js';
import { contactData, event, hubspotContext, record, type TestContext } from './fixtures.js';
import { SPECS_MISSING, sandboxAnswerProblems, specsAvailable } from './openapi.js';

const sandbox = new HubSpotSandbox({ rateLimit: { max: 10_000, perMs: 10_000 } });
let ctx: TestContext;
let client: ConnectorClient;

beforeAll(async () => {
  const { url } = await sandbox.start();
  ctx = hubspotContext({ baseUrl: url, deleteMode: 'archive' });
  client = hubspot.createClient(ctx);
});
afterAll(async () => {
  await client.close?.();
  await sandbox.stop();
});

/** Pushes and stores the links the way the engine would, so later pushes find them. */
async function push(...records: Parameters<typeof record>[]): Promise<PushResult[]> {
  const built = records.map(([e, options]) => {
    const r = record(e, options);
    return { ...r, externalId: r.externalId ?? ctx.links.get(`${r.entityType}:${r.entityId}`) ?? null };
  });
  const results = await client.push(built);
  results.forEach((result, i) => {
    if (result.status !== 'ok' || !result.externalId) return;
    ctx.links.set(`${built[i]!.entityType}:${built[i]!.entityId}`, result.externalId);
    for (const extra of result.extraLinks ?? [])
      ctx.links.set(`${extra.entityType}:${extra.entityId}`, extra.externalId);
  });
  return results;
}

const acme = { id: 1, name: 'Acme', domain: 'acme.com', isPrimary: true };

describe('HubSpot connector against the sandbox: one customer’s story', () => {
  it('creates the company, then the contact associated with it as primary', async () => {
    const [company] = await push([
      event('CRM_COMPANY_CREATED', acme),
      { entityType: 'company', payload: { name: 'Acme', domain: 'acme.com' } },
    ]);
    const [contact] = await push([
      event('CRM_CONTACT_CREATED', contactData(10, { companies: [acme] })),
      { payload: { email: 'user10@example.com', firstname: 'Ada' } },
    ]);
    const companyId = (company as { externalId: string }).externalId;
    const contactId = (contact as { externalId: string }).externalId;
    expect(sandbox.store.associationTypes('contacts', contactId, 'companies', companyId)).toEqual([
      AssociationTypes.primaryContactToCompany,
      AssociationTypes.contactToCompany,
    ]);
  });

  it('writes a call with its associations, and does not write it twice when replayed', async () => {
    const call = event('CRM_ACTIVITY_CREATED', {
      id: 77,
      contactId: 10,
      companyId: 1,
      type: 'CALL',
      content: 'Discussed renewal',
      occurredAt: '2026-11-22T09:00:00.000Z',
      properties: { status: 'COMPLETED' },
    });
    const [first] = await push([call, { operation: 'activity', entityType: 'activity' }]);
    const [replay] = await push([call, { operation: 'activity', entityType: 'activity' }]);
    const callId = (first as { externalId: string }).externalId;
    expect(replay).toMatchObject({ status: 'ok', externalId: callId });
    expect(sandbox.store.all('calls')).toHaveLength(1);
    expect(sandbox.store.get('calls', callId)?.properties).toMatchObject({
      hs_call_body: 'Discussed renewal',
      hs_call_status: 'COMPLETED',
    });
    expect(sandbox.store.associationTypes('calls', callId, 'contacts', ctx.links.get('contact:10')!)).toEqual(
      [AssociationTypes.callToContact],
    );
    expect(sandbox.store.associationTypes('calls', callId, 'companies', ctx.links.get('company:1')!)).toEqual(
      [AssociationTypes.callToCompany],
    );
  });

  it('adds the contact to the static list named after the CRM list, then removes it', async () => {
    const listEvent = (type: 'CRM_LIST_MEMBER_ADDED' | 'CRM_LIST_MEMBER_REMOVED') =>
      event(type, { list: { id: 5, name: 'Newsletter' }, contact: contactData(10) });
    const [added] = await push([
      listEvent('CRM_LIST_MEMBER_ADDED'),
      { operation: 'list_add', entityType: 'list_membership', entityId: '5:10' },
    ]);
    const list = [...sandbox.store.lists.values()].find((l) => l.name === 'Newsletter');
    expect(list?.processingType).toBe('MANUAL');
    expect([...(list?.members ?? [])]).toEqual([ctx.links.get('contact:10')]);

    const state = (added as { state: Record<string, unknown> }).state;
    const [removed] = await push([
      listEvent('CRM_LIST_MEMBER_REMOVED'),
      { operation: 'list_remove', entityType: 'list_membership', entityId: '5:10', state },
    ]);
    expect(removed).toMatchObject({ status: 'ok' });
    expect(list?.members.size).toBe(0);
  });

  it('merges a second linked contact into the first with HubSpot’s merge', async () => {
    await push([event('CRM_CONTACT_CREATED', contactData(11)), { payload: { email: 'user11@example.com' } }]);
    const loserHubSpotId = ctx.links.get('contact:11')!;
    const [merged] = await push([
      event('CRM_CONTACT_MERGED', { winner: contactData(10, { companies: [acme] }), loserId: 11 }),
      {
        operation: 'merge',
        payload: { email: 'user10@example.com' },
        state: { companyIds: [ctx.links.get('company:1')], primaryCompanyId: ctx.links.get('company:1') },
      },
    ]);
    expect(merged).toMatchObject({
      status: 'ok',
      externalId: ctx.links.get('contact:10'),
      mergedFrom: { entityId: '11' },
    });
    expect(sandbox.store.get('contacts', loserHubSpotId)).toBeUndefined();
    expect(sandbox.store.table('contacts').get(loserHubSpotId)?.mergedInto).toBe(ctx.links.get('contact:10'));
  });

  it('dissociates the company, then archives the contact', async () => {
    const contactId = ctx.links.get('contact:10')!;
    const companyId = ctx.links.get('company:1')!;
    await push([
      event('CRM_CONTACT_COMPANY_DISSOCIATED', { ...contactData(10), company: acme }),
      { operation: 'dissociate', state: { companyIds: [companyId], primaryCompanyId: companyId } },
    ]);
    expect(sandbox.store.associationTypes('contacts', contactId, 'companies', companyId)).toEqual([]);

    const [archived] = await push([
      event('CRM_CONTACT_ARCHIVED', contactData(10, { status: 'ARCHIVED' })),
      { operation: 'archive' },
    ]);
    expect(archived).toMatchObject({ status: 'ok', externalId: contactId });
    expect(sandbox.store.get('contacts', contactId)).toBeUndefined();
  });

  it('checks the credentials and describes the contact fields', async () => {
    expect(await client.check()).toMatchObject({ ok: true });
    const fields = await client.describeFields('contact');
    expect(fields.find((f) => f.name === 'lifecyclestage')).toMatchObject({
      type: 'enumeration',
      options: expect.arrayContaining(['lead', 'customer']),
    });
    expect(fields.find((f) => f.name === 'hs_object_id')).toMatchObject({ readOnly: true });
  });

  it.skipIf(!specsAvailable)('answered every request in the shapes of HubSpot’s OpenAPI documents', () => {
    let checked = 0;
    for (const entry of sandbox.log.entries) {
      const problems = sandboxAnswerProblems(entry);
      if (problems === null) continue;
      expect(problems, `${entry.method} ${entry.path} ${entry.status}`).toEqual([]);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it.skipIf(specsAvailable)(SPECS_MISSING, () => {});
});
