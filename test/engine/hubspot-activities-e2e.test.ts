import { AssociationTypes } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubSpotSandbox } from '../../src/connectors/hubspot/sandbox/index.js';
import type { CrmEventInput } from '../../src/events/envelope.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * HubSpot activities through the whole worker against the sandbox, where answers get lost: a
 * batch create HubSpot applied although it answered 500 (or closed the connection) is retried
 * by the engine, marked `retried`; the retry reads the contact's engagements first and creates
 * only what is missing, so every engagement exists once. Its own file and sandbox: the faults
 * here answer 500s and drop connections.
 */
const TOKEN = 'pat-na1-e2e00000-5555-6666-7777-888888888888';
const sandbox = new HubSpotSandbox({ rateLimit: { max: 10_000, perMs: 10_000 }, accessToken: TOKEN });
let h: EngineHarness;
let integrationId: string;
let counter = 0;

const CONTACT = 40;
const COMPANY = 41;

function crmEvent(type: CrmEventInput['type'], data: Record<string, unknown>): CrmEventInput {
  counter += 1;
  return {
    id: `evt_hsa_${Date.now().toString(36)}_${counter}`,
    type,
    organizationId: 'org_1',
    occurredAt: new Date().toISOString(),
    data,
  } as CrmEventInput;
}

const activityEvent = (id: number, activity: Record<string, unknown>) =>
  crmEvent('CRM_ACTIVITY_CREATED', {
    id,
    contactId: CONTACT,
    occurredAt: '2026-11-22T09:00:00.000Z',
    properties: {},
    ...activity,
  });

async function results(entityId: number) {
  const { rows } = await h.ctx.db.query(
    `SELECT event_id, result FROM crm_sync.sync_log WHERE integration_id = $1 AND entity_id = $2 ORDER BY id`,
    [integrationId, String(entityId)],
  );
  return rows as { event_id: string; result: string }[];
}

/** Waits, bounded by waitFor's timeout, until the record's link carries `eventId`. */
const linkedBy = (entityType: string, entityId: number, eventId: string) =>
  waitFor(`${entityType} ${entityId} linked by ${eventId}`, async () => {
    const { rows } = await h.ctx.db.query(
      `SELECT external_id FROM crm_sync.sync_links
        WHERE integration_id = $1 AND entity_type = $2 AND entity_id = $3 AND last_event_id = $4`,
      [integrationId, entityType, String(entityId), eventId],
    );
    return rows[0]?.external_id as string | undefined;
  });

/** Every input of every batch create of the type, with the status its request was answered. */
const createInputs = (objectType: string) =>
  sandbox.log.to('POST', `/crm/v3/objects/${objectType}/batch/create`).flatMap((r) =>
    (r.body as { inputs: { properties: Record<string, string> }[] }).inputs.map((input) => ({
      status: r.status,
      properties: input.properties,
    })),
  );

beforeAll(async () => {
  await sandbox.start();
  h = await startEngineHarness({}, { HUBSPOT_BASE_URL: sandbox.url });
  const applied = await h.applyIntegration({
    key: 'hubspot-activities-e2e',
    organizationId: 'org_1',
    provider: 'HUBSPOT',
    name: 'HubSpot activities e2e',
    credentials: { accessToken: TOKEN },
    settings: {},
    retry: { attempts: 3, backoffMs: 40 },
  });
  integrationId = applied.integration.id;
  const company = crmEvent('CRM_COMPANY_CREATED', {
    id: COMPANY,
    name: 'Initech',
    domain: 'initech.example',
  });
  await h.publish(company);
  await linkedBy('company', COMPANY, company.id);
  const contact = contactEvent({
    type: 'CRM_CONTACT_CREATED',
    contactId: CONTACT,
    version: 1,
    data: { companies: [{ id: COMPANY, name: 'Initech', domain: 'initech.example', isPrimary: true }] },
  });
  await h.publish(contact);
  await linkedBy('contact', CONTACT, contact.id);
}, 30_000);

afterAll(async () => {
  await h?.close();
  await sandbox.stop();
});

describe('HubSpot activities whose answers get lost, through the worker', () => {
  it('creates each engagement once when HubSpot applied a batch create but answered 500', async () => {
    const companyId = sandbox.store.findBy('companies', 'domain', 'initech.example')[0]!.id;
    const activities = [
      {
        id: 4001,
        event: activityEvent(4001, { type: 'NOTE', content: 'Asked for a quote', companyId: COMPANY }),
      },
      { id: 4002, event: activityEvent(4002, { type: 'NOTE', content: 'Sent the quote' }) },
      { id: 4003, event: activityEvent(4003, { type: 'CALL', content: 'Walked through the quote' }) },
    ];
    sandbox.faults.failNext({
      path: /\/crm\/v3\/objects\/(notes|calls)\/batch\/create$/,
      status: 500,
      applied: true,
    });
    // Held while routed, so that the three activities go to HubSpot in one push.
    const queue = h.engine.queueFor(integrationId);
    await queue.pause();
    try {
      for (const { event } of activities) await h.publish(event);
      await waitFor('every activity routed', async () => {
        const left = await h.engine.eventsQueue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        return Object.values(left).every((n) => n === 0);
      });
    } finally {
      await queue.resume();
    }
    const links = await Promise.all(activities.map(({ id, event }) => linkedBy('activity', id, event.id)));

    const notes = createInputs('notes');
    const calls = createInputs('calls');
    // The notes' create (both notes) was applied and answered 500; nothing it carried was sent again.
    expect(notes.filter((i) => i.status === 500).map((i) => i.properties.hs_note_body)).toEqual([
      'Asked for a quote',
      'Sent the quote',
    ]);
    for (const [body, inputs] of [
      ['Asked for a quote', notes],
      ['Sent the quote', notes],
      ['Walked through the quote', calls],
    ] as const) {
      expect(
        inputs.filter((i) => (i.properties.hs_note_body ?? i.properties.hs_call_body) === body),
        body,
      ).toHaveLength(1);
    }
    const stored = [
      sandbox.store.findBy('notes', 'hs_note_body', 'Asked for a quote'),
      sandbox.store.findBy('notes', 'hs_note_body', 'Sent the quote'),
      sandbox.store.findBy('calls', 'hs_call_body', 'Walked through the quote'),
    ];
    expect(stored.map((found) => found.map((o) => o.id))).toEqual(links.map((id) => [id]));
    // The engagements the 500 hid were found by reading, not searching.
    expect(
      sandbox.log.to('GET', /^\/crm\/v4\/objects\/contacts\/\d+\/associations\/(notes|calls)$/).length,
    ).toBeGreaterThan(0);
    expect(sandbox.log.to('POST', /\/(notes|calls)\/search$/)).toEqual([]);
    expect(sandbox.store.associationTypes('notes', links[0]!, 'companies', companyId)).toEqual([
      AssociationTypes.noteToCompany,
    ]);
    for (const { id } of activities)
      expect((await results(id)).map((r) => r.result)).toEqual(['retrying', 'success']);
  });

  it('creates a note once when the connection dropped after HubSpot created it', async () => {
    const path = '/crm/v3/objects/notes/batch/create';
    const before = sandbox.log.to('POST', path).length;
    sandbox.faults.failNext({ path: /\/crm\/v3\/objects\/notes\/batch\/create$/, applied: true, drop: true });
    const { id, event } = { id: 4004, event: activityEvent(4004, { type: 'NOTE', content: 'Wants a demo' }) };
    await h.publish(event);
    const noteId = await linkedBy('activity', id, event.id);

    expect(sandbox.store.findBy('notes', 'hs_note_body', 'Wants a demo').map((o) => o.id)).toEqual([noteId]);
    expect(
      sandbox.log
        .to('POST', path)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([0]);
    expect((await results(id)).map((r) => r.result)).toEqual(['retrying', 'success']);
  });
});
