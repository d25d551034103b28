import { AssociationTypes } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubSpotSandbox } from '../../src/connectors/hubspot/sandbox/index.js';
import type { CrmEventInput } from '../../src/events/envelope.js';
import type { IntegrationConfigInput } from '../../src/integrations/schema.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * HubSpot end to end: events published on `crm-events`, consumed and synced by the real engine
 * (router, sync queue, micro-batcher, shared limiter) into the loopback HubSpot sandbox.
 */

const TOKEN = 'pat-na1-e2e00000-1111-2222-3333-444444444444';
const sandbox = new HubSpotSandbox({ rateLimit: { max: 10_000, perMs: 10_000 }, accessToken: TOKEN });
let h: EngineHarness;
let integrationId: string;

const hubspot = (over: Partial<IntegrationConfigInput> = {}): IntegrationConfigInput => ({
  key: 'hubspot-e2e',
  organizationId: 'org_1',
  provider: 'HUBSPOT',
  name: 'HubSpot e2e',
  credentials: { accessToken: TOKEN },
  settings: { deleteMode: 'archive' },
  retry: { attempts: 3, backoffMs: 40 },
  ...over,
});

let counter = 0;
function crmEvent(type: CrmEventInput['type'], data: Record<string, unknown>, organizationId = 'org_1') {
  counter += 1;
  return {
    id: `evt_hs_${Date.now().toString(36)}_${counter}`,
    type,
    organizationId,
    occurredAt: new Date().toISOString(),
    data,
  } as CrmEventInput;
}

async function linkOf(entityType: string, entityId: string | number, integration = integrationId) {
  const { rows } = await h.ctx.db.query(
    `SELECT * FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = $2 AND entity_id = $3`,
    [integration, entityType, String(entityId)],
  );
  return rows[0] as
    | { external_id: string | null; sync_hash: string | null; last_version: number | null; state: object }
    | undefined;
}

/** Waits until the record's link carries `eventId` (the engine stored the push's outcome). */
const linkedBy = (entityType: string, entityId: string | number, eventId: string, integration?: string) =>
  waitFor(`${entityType} ${entityId} linked by ${eventId}`, async () => {
    const { rows } = await h.ctx.db.query(
      `SELECT external_id FROM crm_sync.sync_links
        WHERE integration_id = $1 AND entity_type = $2 AND entity_id = $3 AND last_event_id = $4`,
      [integration ?? integrationId, entityType, String(entityId), eventId],
    );
    return rows[0]?.external_id as string | undefined;
  });

/** The sync log's row for an event, once the engine wrote it. */
const logOf = (eventId: string) =>
  waitFor(`the sync log row of ${eventId}`, async () => {
    const { rows } = await h.ctx.db.query(
      `SELECT result, error FROM crm_sync.sync_log WHERE event_id = $1 ORDER BY id DESC LIMIT 1`,
      [eventId],
    );
    return rows[0] as { result: string; error: string | null } | undefined;
  });

const contactsWithEmail = (email: string) => sandbox.store.findBy('contacts', 'email', email);

beforeAll(async () => {
  await sandbox.start();
  h = await startEngineHarness({}, { HUBSPOT_BASE_URL: sandbox.url });
  integrationId = (await h.applyIntegration(hubspot())).integration.id;
});

afterAll(async () => {
  await h?.close();
  await sandbox.stop();
});

describe('HubSpot through the worker: contacts', () => {
  it('creates a contact with the default mapping and links it to its HubSpot id', async () => {
    const created = contactEvent({
      type: 'CRM_CONTACT_CREATED',
      contactId: 1,
      version: 1,
      data: { lifecycleStage: 'LEAD', phone: '+44 20 7946 0001' },
    });
    await h.publish(created);
    const hubspotId = await linkedBy('contact', 1, created.id);

    expect(sandbox.store.get('contacts', hubspotId)?.properties).toMatchObject({
      email: 'person1@example.com',
      firstname: 'Ada',
      lastname: 'Lovelace',
      phone: '+44 20 7946 0001',
      lifecyclestage: 'lead',
    });
    const upserts = sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/upsert');
    expect(upserts.at(-1)?.body).toMatchObject({
      inputs: [{ id: 'person1@example.com', idProperty: 'email' }],
    });
  });

  it('updates the linked contact by its HubSpot id, not by a second upsert', async () => {
    const hubspotId = (await linkOf('contact', 1))!.external_id!;
    const upsertsBefore = sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/upsert').length;
    const updated = contactEvent({ contactId: 1, version: 2, data: { givenName: 'Augusta' } });
    await h.publish(updated);
    await linkedBy('contact', 1, updated.id);

    expect(sandbox.store.get('contacts', hubspotId)?.properties.firstname).toBe('Augusta');
    expect(sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/update').at(-1)?.body).toMatchObject({
      inputs: [{ id: hubspotId, properties: { firstname: 'Augusta' } }],
    });
    expect(sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/upsert')).toHaveLength(upsertsBefore);
    expect(contactsWithEmail('person1@example.com')).toHaveLength(1);
  });

  it('never creates a second contact: a redelivered event, or a lost link, lands on the same record', async () => {
    const first = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 2, version: 1 });
    await h.publish(first);
    const hubspotId = await linkedBy('contact', 2, first.id);
    const requests = sandbox.log.count();

    // The CRM publishes the same event again: nothing reaches HubSpot.
    await h.publish(first);
    // The link is lost (restored backup, operator mistake): the next change upserts by email.
    await h.ctx.db.query(
      `DELETE FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = 'contact' AND entity_id = '2'`,
      [integrationId],
    );
    const later = contactEvent({ contactId: 2, version: 2, data: { familyName: 'King' } });
    await h.publish(later);

    expect(await linkedBy('contact', 2, later.id)).toBe(hubspotId);
    expect(contactsWithEmail('person2@example.com').map((c) => c.id)).toEqual([hubspotId]);
    expect(sandbox.store.get('contacts', hubspotId)?.properties.lastname).toBe('King');
    // Exactly one request for the later event: the duplicate made none.
    expect(sandbox.log.count() - requests).toBe(1);
  });

  it('merges the loser into the winner with HubSpot’s merge and drops the loser’s link', async () => {
    const winner = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 3, version: 1 });
    const loser = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 4, version: 1 });
    await h.publish(winner);
    await h.publish(loser);
    const winnerId = await linkedBy('contact', 3, winner.id);
    const loserId = await linkedBy('contact', 4, loser.id);

    const merged = crmEvent('CRM_CONTACT_MERGED', {
      winner: { ...contactEvent({ contactId: 3 }).data, givenName: 'Merged' },
      loserId: 4,
      loserEmail: 'person4@example.com',
    });
    await h.publish(merged);
    expect(await linkedBy('contact', 3, merged.id)).toBe(winnerId);

    expect(sandbox.log.to('POST', '/crm/v3/objects/contacts/merge').at(-1)?.body).toEqual({
      primaryObjectId: winnerId,
      objectIdToMerge: loserId,
    });
    expect(sandbox.store.table('contacts').get(loserId)?.mergedInto).toBe(winnerId);
    expect(sandbox.store.get('contacts', winnerId)?.properties.firstname).toBe('Merged');
    await waitFor('the loser’s link to go', async () => (await linkOf('contact', 4)) === undefined);
  });
});

describe('HubSpot through the worker: companies, associations, activities', () => {
  const acme = { id: 10, name: 'Acme', domain: 'https://www.Acme.example/' };
  const globex = { id: 11, name: 'Globex', domain: 'globex.example' };

  it('creates a company by its bare domain, and finds it by domain instead of creating it twice', async () => {
    const created = crmEvent('CRM_COMPANY_CREATED', { ...acme, industry: 'COMPUTER_SOFTWARE' });
    await h.publish(created);
    const companyId = await linkedBy('company', 10, created.id);
    expect(sandbox.store.get('companies', companyId)?.properties).toMatchObject({
      name: 'Acme',
      domain: 'acme.example',
      industry: 'COMPUTER_SOFTWARE',
    });

    // Globex already exists at HubSpot (made by hand): the sync adopts it.
    const existing = sandbox.store.create('companies', { name: 'Globex Corp', domain: 'globex.example' });
    const globexEvent = crmEvent('CRM_COMPANY_CREATED', globex);
    await h.publish(globexEvent);
    expect(await linkedBy('company', 11, globexEvent.id)).toBe(existing.id);
    expect(sandbox.store.findBy('companies', 'domain', 'globex.example')).toHaveLength(1);
    expect(sandbox.store.get('companies', existing.id)?.properties.name).toBe('Globex');
  });

  it('associates a contact with its primary company from the contact’s snapshot', async () => {
    const companyId = (await linkOf('company', 10))!.external_id!;
    const event = contactEvent({
      type: 'CRM_CONTACT_CREATED',
      contactId: 20,
      version: 1,
      data: { companies: [{ ...acme, isPrimary: true }] },
    });
    await h.publish(event);
    const contactId = await linkedBy('contact', 20, event.id);
    expect(sandbox.store.associationTypes('contacts', contactId, 'companies', companyId)).toEqual([
      AssociationTypes.primaryContactToCompany,
      AssociationTypes.contactToCompany,
    ]);
  });

  it('adds and removes an association from the CRM’s association events', async () => {
    const contactId = (await linkOf('contact', 20))!.external_id!;
    const globexId = (await linkOf('company', 11))!.external_id!;
    const snapshot = contactEvent({
      contactId: 20,
      data: { companies: [{ ...acme, isPrimary: true }] },
    }).data;

    const associated = crmEvent('CRM_CONTACT_COMPANY_ASSOCIATED', {
      ...snapshot,
      companies: [{ ...acme, isPrimary: true }, globex],
      company: globex,
      role: 'Advisor',
      isPrimary: false,
    });
    await h.publish(associated);
    await linkedBy('contact', 20, associated.id);
    expect(sandbox.store.associationTypes('contacts', contactId, 'companies', globexId)).toEqual([
      AssociationTypes.contactToCompany,
    ]);

    const dissociated = crmEvent('CRM_CONTACT_COMPANY_DISSOCIATED', {
      ...snapshot,
      company: globex,
    });
    await h.publish(dissociated);
    await linkedBy('contact', 20, dissociated.id);
    expect(sandbox.store.associationTypes('contacts', contactId, 'companies', globexId)).toEqual([]);
    // The primary company stays.
    expect(
      sandbox.store.associationTypes(
        'contacts',
        contactId,
        'companies',
        (await linkOf('company', 10))!.external_id!,
      ),
    ).toHaveLength(2);
  });

  it('writes a call associated with its contact and company, and a later event for it makes no call', async () => {
    const contactId = (await linkOf('contact', 20))!.external_id!;
    const companyId = (await linkOf('company', 10))!.external_id!;
    const call = {
      id: 500,
      contactId: 20,
      companyId: 10,
      type: 'CALL',
      content: 'Discussed the renewal',
      occurredAt: '2026-11-22T09:00:00.000Z',
      properties: { status: 'COMPLETED', durationSeconds: 300 },
    };
    const first = crmEvent('CRM_ACTIVITY_CREATED', call);
    await h.publish(first);
    const callId = await linkedBy('activity', 500, first.id);

    expect(sandbox.store.get('calls', callId)?.properties).toMatchObject({
      hs_call_body: 'Discussed the renewal',
      hs_call_status: 'COMPLETED',
      hs_timestamp: '2026-11-22T09:00:00.000Z',
    });
    expect(sandbox.store.associationTypes('calls', callId, 'contacts', contactId)).toEqual([
      AssociationTypes.callToContact,
    ]);
    expect(sandbox.store.associationTypes('calls', callId, 'companies', companyId)).toEqual([
      AssociationTypes.callToCompany,
    ]);

    const requests = sandbox.log.count();
    const again = crmEvent('CRM_ACTIVITY_CREATED', call);
    await h.publish(again);
    expect(await logOf(again.id)).toEqual({ result: 'skipped', error: 'already_linked' });
    expect(sandbox.store.all('calls')).toHaveLength(1);
    expect(sandbox.log.count()).toBe(requests);
  });
});

describe('HubSpot through the worker: one invalid email in a batch', () => {
  const contact = (id: number) => contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 });

  it('links the others, dead-letters the bad one with HubSpot’s reason, and a replay after the fix succeeds', async () => {
    // HubSpot is the judge of an address: here it refuses one the CRM accepted. The fix is on
    // HubSpot's side (as in the webhook e2e, where the receiver is fixed before the replay).
    const refused = 'person905@example.com';
    sandbox.faults.rejectInputs({
      objectType: 'contacts',
      match: (p) => p.email === refused,
      property: 'email',
      error: 'INVALID_EMAIL',
      message: `Email address ${refused} is invalid`,
    });
    const events = [901, 902, 905, 903, 904].map(contact);
    for (const e of events) await h.publish(e);
    const good = events.filter((e) => e.data.id !== 905);

    for (const e of good) await linkedBy('contact', e.data.id as number, e.id);
    const failure = await waitFor('the dead letter', async () => {
      const { rows } = await h.ctx.db.query(
        `SELECT id, entity_id, error_kind, error_code, error_message, provider_status, attempts, status
           FROM crm_sync.sync_failures WHERE integration_id = $1`,
        [integrationId],
      );
      return rows.length > 0 && rows;
    });
    expect(failure).toEqual([
      expect.objectContaining({
        entity_id: '905',
        error_kind: 'permanent',
        error_code: 'VALIDATION_ERROR',
        provider_status: 400,
        attempts: 1,
        status: 'open',
      }),
    ]);
    expect(failure[0].error_message).toContain(
      `property "email" (INVALID_EMAIL): Email address ${refused} is invalid`,
    );
    expect(await linkOf('contact', 905)).toMatchObject({ external_id: null });
    // The bad input went to HubSpot once, in a batch with good ones, which were resent without it.
    const upserts = sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/upsert').map((r) => ({
      status: r.status,
      ids: (r.body as { inputs: { id: string }[] }).inputs.map((i) => i.id),
    }));
    const withBad = upserts.filter((u) => u.ids.includes(refused));
    expect(withBad).toEqual([{ status: 400, ids: expect.arrayContaining([refused]) }]);
    // Which good ones shared its batch depends on how the five events fell into batch windows
    // (under load they may split); each of them went again, without it, and was accepted.
    const batchmates = withBad[0]!.ids.filter((id) => id !== refused);
    for (const id of batchmates)
      expect(upserts.some((u) => u.status === 200 && u.ids.includes(id) && !u.ids.includes(refused))).toBe(
        true,
      );
    for (const e of good) expect(contactsWithEmail(e.data.email as string)).toHaveLength(1);
    expect(contactsWithEmail(refused)).toHaveLength(0);

    sandbox.faults.reset();
    expect(await h.engine.replay({ ids: [failure[0].id] })).toEqual([
      expect.objectContaining({ status: 'queued' }),
    ]);
    const hubspotId = await linkedBy('contact', 905, events[2]!.id);
    expect(contactsWithEmail(refused).map((c) => c.id)).toEqual([hubspotId]);
    await waitFor('the dead letter to be closed', async () => {
      const { rows } = await h.ctx.db.query(`SELECT status FROM crm_sync.sync_failures WHERE id = $1`, [
        failure[0].id,
      ]);
      return rows[0]?.status === 'replayed';
    });
  });
});

describe('HubSpot through the worker: counting requests', () => {
  // A sandbox of its own, so that every request it receives is this integration's.
  const own = new HubSpotSandbox({ rateLimit: { max: 10_000, perMs: 10_000 }, accessToken: TOKEN });
  beforeAll(() => own.start());
  afterAll(() => own.stop());

  it('counts every request of a push in the sync log, the property catalog’s included', async () => {
    const { integration } = await h.applyIntegration(
      hubspot({
        key: 'hubspot-count',
        organizationId: 'org_count',
        settings: { deleteMode: 'archive', baseUrl: own.url, createMissingProperties: true },
        mappings: {
          contact: {
            fields: [
              { source: 'email', target: 'email' },
              { source: 'givenName', target: 'firstname' },
              // Not a HubSpot property yet: the push reads the catalog and creates it.
              { source: 'familyName', target: 'crm_family_name' },
            ],
          },
        },
      }),
    );
    const events = [971, 972, 973].map((id) => ({
      ...contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 }),
      organizationId: 'org_count',
    }));
    for (const e of events) await h.publish(e);
    for (const e of events) await linkedBy('contact', e.data.id as number, e.id, integration.id);

    const { rows } = await h.ctx.db.query(
      `SELECT coalesce(sum(api_calls), 0)::int AS calls FROM crm_sync.sync_log WHERE integration_id = $1`,
      [integration.id],
    );
    expect(own.log.count((r) => r.method === 'GET' && r.path === '/crm/v3/properties/contacts')).toBe(1);
    expect(own.log.to('POST', '/crm/v3/properties/contacts/batch/create')).toHaveLength(1);
    expect(rows[0].calls).toBe(own.log.count());
  });

  it('keeps superseded changes out of provider batches: 150 contacts changed 3 times are 2-3 requests', async () => {
    const queue = h.engine.queueFor(integrationId);
    const upserts = () => sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/upsert');
    const before = upserts().length;
    const ids = Array.from({ length: 150 }, (_, i) => 9_000 + i);
    const newest = new Map<number, string>();
    const superseded: string[] = [];
    // Held while routed, so every sync job holds all three changes of its contacts: two thirds
    // of its items are superseded before anything is pushed.
    await queue.pause();
    try {
      for (const id of ids) {
        for (const version of [1, 2, 3]) {
          const event = contactEvent({
            type: version === 1 ? 'CRM_CONTACT_CREATED' : 'CRM_CONTACT_UPDATED',
            contactId: id,
            version,
            data: { email: `storm${id}@example.com`, givenName: `v${version}` },
          });
          if (version < 3) superseded.push(event.id);
          newest.set(id, event.id);
          await h.publish(event);
        }
      }
      await waitFor('every change routed', async () => {
        const left = await h.engine.eventsQueue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        return Object.values(left).every((n) => n === 0);
      });
    } finally {
      await queue.resume();
    }
    for (const id of ids) await linkedBy('contact', id, newest.get(id)!);

    // 150 records at 100 per request: 2 requests, 3 when a batch leaves before the last jobs'
    // records reach it. With superseded items taking seats, 450 items fill at least 5 batches,
    // each with a third of its seats pushed (4-5 requests for 2 changes per contact, measured).
    const sent = upserts()
      .slice(before)
      .map((r) => (r.body as { inputs: { properties: { firstname: string } }[] }).inputs);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThanOrEqual(3);
    expect(sent.flat()).toHaveLength(150);
    expect(sent.flat().every((input) => input.properties.firstname === 'v3')).toBe(true);
    const { rows } = await h.ctx.db.query(
      `SELECT count(*)::int AS n FROM crm_sync.sync_log
        WHERE event_id = ANY($1::text[]) AND result = 'skipped' AND error = 'superseded'`,
      [superseded],
    );
    expect(rows[0].n).toBe(300);
  });
});
