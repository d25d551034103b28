import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubSpotSandbox } from '../sandbox/index.js';
import { SandboxStore } from '../sandbox/sandbox-store.js';
import { sandboxAnswerProblems } from './openapi.js';

/**
 * What the sandbox offers for finding engagements after a lost answer: a contact's engagements
 * listed from the contact's side (associations made at create time included), paged; batch
 * reads of engagements; creates that are applied although their answer is an error or nothing.
 */
const sandbox = new HubSpotSandbox({ rateLimit: { max: 10_000, perMs: 10_000 } });

/** The parts of the answers these tests read. */
interface Answer {
  results: { id: string; toObjectId: number; properties: Record<string, string> }[];
  paging?: unknown;
  errors: { context: unknown }[];
}

async function send(method: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { authorization: 'Bearer pat-na1-sandbox', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as Answer };
}

const noteInput = (contactId: string, body: string, traceId: string, companyId?: string) => ({
  objectWriteTraceId: traceId,
  properties: { hs_timestamp: '2026-11-22T09:00:00.000Z', hs_note_body: body },
  associations: [
    { to: { id: contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] },
    ...(companyId
      ? [
          {
            to: { id: companyId },
            types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 190 }],
          },
        ]
      : []),
  ],
});

beforeAll(() => sandbox.start());
afterEach(() => {
  sandbox.faults.reset();
  sandbox.log.clear();
});
afterAll(() => sandbox.stop());

describe('the HubSpot sandbox’s engagements', () => {
  it('lists the notes created with a contact from the contact’s side, 500 a page at most, paged with after', async () => {
    const contact = sandbox.store.create('contacts', { email: 'list@example.com' });
    const company = sandbox.store.create('companies', { domain: 'list.example' });
    const created = await send('POST', '/crm/v3/objects/notes/batch/create', {
      inputs: ['a', 'b', 'c'].map((t) => noteInput(contact.id, `Note ${t}`, t, company.id)),
    });
    expect(created.status).toBe(201);
    const ids = created.body.results.map((r) => r.id);

    const path = `/crm/v4/objects/contacts/${contact.id}/associations/notes`;
    const first = await send('GET', `${path}?limit=2`);
    expect(first.body).toEqual({
      results: ids.slice(0, 2).map((id) => ({
        toObjectId: Number(id),
        associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 201, label: null }],
      })),
      paging: { next: { after: '2', link: '?after=2' } },
    });
    const second = await send('GET', `${path}?after=2&limit=2`);
    expect(second.body.results.map((r) => String(r.toObjectId))).toEqual([ids[2]]);
    expect(second.body.paging).toBeUndefined();

    const busy = sandbox.store.create('contacts', { email: 'busy@example.com' });
    for (let k = 0; k < 501; k += 1) {
      const note = sandbox.store.create('notes', { hs_timestamp: '2026-11-22T09:00:00.000Z' });
      sandbox.store.associate('notes', note.id, 'contacts', busy.id, [202]);
    }
    const capped = await send('GET', `/crm/v4/objects/contacts/${busy.id}/associations/notes?limit=5000`);
    expect(capped.body.results).toHaveLength(500);
    expect(capped.body.paging).toMatchObject({ next: { after: '500' } });
    expect(sandbox.store.associationTypes('companies', company.id, 'notes', ids[0]!)).toEqual([189]);
  });

  it('answers a batch read with the properties asked for, and 207 for ids it does not have', async () => {
    const note = sandbox.store.create('notes', {
      hs_timestamp: '2026-11-22T09:00:00.000Z',
      hs_note_body: 'Hi',
    });
    const read = await send('POST', '/crm/v3/objects/notes/batch/read', {
      inputs: [{ id: note.id }, { id: '999999999' }],
      properties: ['hs_note_body'],
      propertiesWithHistory: [],
    });
    expect(read.status).toBe(207);
    expect(Object.keys(read.body.results[0]!.properties).sort()).toEqual([
      'createdate',
      'hs_lastmodifieddate',
      'hs_note_body',
      'hs_object_id',
    ]);
    expect(read.body.errors[0]!.context).toEqual({ ids: ['999999999'] });
    for (const entry of sandbox.log.entries) expect(sandboxAnswerProblems(entry) ?? []).toEqual([]);
  });

  it('creates nothing when an association’s target does not exist', async () => {
    const contact = sandbox.store.create('contacts', { email: 'refused@example.com' });
    const before = sandbox.store.all('notes').length;
    const refused = await send('POST', '/crm/v3/objects/notes/batch/create', {
      inputs: [noteInput(contact.id, 'Kept', 'ok'), noteInput('424242', 'Orphan', 'bad')],
    });
    expect(refused.status).toBe(400);
    expect(sandbox.store.all('notes')).toHaveLength(before);
  });

  it('applies a create and answers 500 with an `applied` failure', async () => {
    const contact = sandbox.store.create('contacts', { email: 'applied@example.com' });
    sandbox.faults.failNext({ path: /\/notes\/batch\/create$/, status: 500, applied: true });
    const answer = await send('POST', '/crm/v3/objects/notes/batch/create', {
      inputs: [noteInput(contact.id, 'Landed anyway', 'x')],
    });
    expect(answer.status).toBe(500);
    expect(sandbox.store.findBy('notes', 'hs_note_body', 'Landed anyway')).toHaveLength(1);
    const listed = await send('GET', `/crm/v4/objects/contacts/${contact.id}/associations/notes`);
    expect(listed.body.results).toHaveLength(1);
  });

  it('closes the connection without an answer with a `drop` failure, applied or not', async () => {
    const contact = sandbox.store.create('contacts', { email: 'dropped@example.com' });
    sandbox.faults.failNext({ path: /\/notes\/batch\/create$/, applied: true, drop: true });
    await expect(
      send('POST', '/crm/v3/objects/notes/batch/create', {
        inputs: [noteInput(contact.id, 'Dropped, kept', 'y')],
      }),
    ).rejects.toThrow();
    expect(sandbox.store.findBy('notes', 'hs_note_body', 'Dropped, kept')).toHaveLength(1);

    sandbox.faults.failNext({ path: /\/notes\/batch\/create$/, drop: true });
    await expect(
      send('POST', '/crm/v3/objects/notes/batch/create', {
        inputs: [noteInput(contact.id, 'Dropped, lost', 'z')],
      }),
    ).rejects.toThrow();
    expect(sandbox.store.findBy('notes', 'hs_note_body', 'Dropped, lost')).toHaveLength(0);
    expect(sandbox.log.to('POST', '/crm/v3/objects/notes/batch/create').map((r) => r.status)).toEqual([0, 0]);
  });
  it('keeps associations both ways, with the paired type ids, through a dissociation and a merge', () => {
    const store = new SandboxStore();
    const ada = store.create('contacts', { email: 'ada@example.com' });
    const dup = store.create('contacts', { email: 'ada.l@example.com' });
    const note = store.create('notes', { hs_note_body: 'Hi' });
    const acme = store.create('companies', { domain: 'acme.com' });

    store.associate('notes', note.id, 'contacts', dup.id, [202]);
    store.associate('contacts', ada.id, 'companies', acme.id, [279, 1]);
    expect(store.associated('contacts', dup.id, 'notes')).toEqual([{ id: note.id, types: [201] }]);
    expect(store.associated('companies', acme.id, 'contacts')).toEqual([{ id: ada.id, types: [2, 280] }]);

    store.merge('contacts', ada, dup);
    expect(store.associated('notes', note.id, 'contacts')).toEqual([{ id: ada.id, types: [202] }]);
    expect(store.associated('contacts', ada.id, 'notes')).toEqual([{ id: note.id, types: [201] }]);

    store.dissociate('contacts', ada.id, 'companies', acme.id);
    expect(store.associated('companies', acme.id, 'contacts')).toEqual([]);
  });
});
