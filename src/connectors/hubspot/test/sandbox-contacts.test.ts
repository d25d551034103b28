import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PushRecord, PushResult } from '../../types.js';
import { hubspot } from '../index.js';
import { HubSpotSandbox } from '../sandbox/index.js';
import { contactData, event, hubspotContext, record } from './fixtures.js';
import { sandboxAnswerProblems } from './openapi.js';

const sandbox = new HubSpotSandbox({ rateLimit: { max: 10_000, perMs: 10_000 } });
let baseUrl: string;

beforeAll(async () => {
  baseUrl = (await sandbox.start()).url;
});
afterAll(() => sandbox.stop());
// Every answer the sandbox gave in these tests, errors included, has HubSpot's documented shape.
afterEach(() => {
  for (const entry of sandbox.log.entries) {
    expect(sandboxAnswerProblems(entry) ?? [], `${entry.method} ${entry.path} ${entry.status}`).toEqual([]);
  }
});
beforeEach(() => {
  sandbox.log.clear();
  sandbox.faults.reset();
  sandbox.behaviour.validationReport = 'first';
});

let next = 1000;
function contacts(
  n: number,
  payloadOf: (i: number) => Record<string, unknown> = (i) => ({
    email: `c${i}@example.com`,
    firstname: `C${i}`,
  }),
) {
  return Array.from({ length: n }, () => {
    next += 1;
    const i = next;
    return record(event('CRM_CONTACT_CREATED', contactData(i)), { payload: payloadOf(i) });
  });
}

async function pushAll(records: PushRecord[], links: Record<string, string> = {}) {
  const ctx = hubspotContext({ baseUrl }, links);
  const client = hubspot.createClient(ctx);
  const results: PushResult[] = [];
  for (let i = 0; i < records.length; i += 100)
    results.push(...(await client.push(records.slice(i, i + 100))));
  await client.close?.();
  return { results, ctx };
}

const okIds = (results: PushResult[]) =>
  results.flatMap((r) => (r.status === 'ok' && r.externalId ? [r.externalId] : []));

describe('HubSpot connector against the sandbox: contacts', () => {
  it('links every good contact of 250 and fails exactly the three bad ones, without resending a batch whole', async () => {
    const bad = new Map<number, Record<string, unknown>>();
    const records = contacts(250, (i) => {
      const payload: Record<string, unknown> = { email: `c${i}@example.com`, firstname: `C${i}` };
      return payload;
    });
    bad.set(17, { email: 'not-an-email' });
    bad.set(120, { crm_unknown_field: 'x' });
    bad.set(201, { lifecyclestage: 'prospect' });
    for (const [index, extra] of bad) Object.assign((records[index] as PushRecord).payload, extra);
    const before = sandbox.store.all('contacts').length;

    const { results } = await pushAll(records);

    const failed = results.flatMap((r, i) => (r.status === 'error' ? [i] : []));
    expect(failed).toEqual([17, 120, 201]);
    const messages = failed.map((i) => (results[i] as { error: Error & { code?: string } }).error);
    expect(messages.map((e) => e.code)).toEqual(['VALIDATION_ERROR', 'VALIDATION_ERROR', 'VALIDATION_ERROR']);
    expect(messages[0]?.message).toContain('INVALID_EMAIL');
    expect(messages[1]?.message).toContain('Property "crm_unknown_field" does not exist');
    expect(messages[2]?.message).toContain('prospect was not one of the allowed options');
    expect(new Set(okIds(results)).size).toBe(247);
    expect(sandbox.store.all('contacts').length - before).toBe(247);
    // Three batches, one extra request per bad input; never the same body twice.
    const bodies = sandbox.log
      .to('POST', '/crm/v3/objects/contacts/batch/upsert')
      .map((r) => JSON.stringify(r.body));
    expect(bodies).toHaveLength(6);
    expect(new Set(bodies).size).toBe(bodies.length);
  });

  it('slices a push larger than HubSpot’s 100 inputs per batch', async () => {
    const client = hubspot.createClient(hubspotContext({ baseUrl }));
    const results = await client.push(contacts(150));
    expect(okIds(results)).toHaveLength(150);
    const sizes = sandbox.log.entries.map((r) => (r.body as { inputs: unknown[] }).inputs.length);
    expect(sizes).toEqual([100, 50]);
    await client.close?.();
  });

  it('bisects a batch when HubSpot does not say which input was bad', async () => {
    sandbox.behaviour.validationReport = 'none';
    const records = contacts(100);
    Object.assign((records[63] as PushRecord).payload, { email: 'broken@' });

    const { results } = await pushAll(records);

    expect(results.flatMap((r, i) => (r.status === 'error' ? [i] : []))).toEqual([63]);
    expect(okIds(results)).toHaveLength(99);
    expect(sandbox.log.count()).toBeLessThanOrEqual(15);
  });

  it('creates no duplicate when the same contacts are replayed, with or without their links', async () => {
    const records = contacts(50);
    const first = await pushAll(records);
    const count = sandbox.store.all('contacts').length;

    const unlinkedReplay = await pushAll(records);
    const links = Object.fromEntries(
      records.map((r, i) => [`contact:${r.entityId}`, okIds(first.results)[i] as string]),
    );
    const linkedReplay = await pushAll(
      records.map((r) => ({ ...r, externalId: links[`contact:${r.entityId}`] ?? null })),
    );

    expect(sandbox.store.all('contacts').length).toBe(count);
    expect(okIds(unlinkedReplay.results)).toEqual(okIds(first.results));
    expect(okIds(linkedReplay.results)).toEqual(okIds(first.results));
    expect(sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/update')).toHaveLength(1);
  });

  it('links a contact another writer created a moment ago when HubSpot answers CONFLICT', async () => {
    const [mine, other] = contacts(2);
    const existing = sandbox.store.create('contacts', {
      email: (other as PushRecord).payload.email as string,
    });
    sandbox.faults.conflictOnUpsert.add(existing.properties.email as string);
    const count = sandbox.store.all('contacts').length;

    const { results } = await pushAll([mine as PushRecord, other as PushRecord]);

    expect(results[1]).toMatchObject({ status: 'ok', externalId: existing.id });
    expect(results[0]).toMatchObject({ status: 'ok' });
    expect(sandbox.store.get('contacts', existing.id)?.properties.firstname).toBe(
      (other as PushRecord).payload.firstname,
    );
    expect(sandbox.store.all('contacts').length).toBe(count + 1);
    expect(sandbox.log.to('POST', '/crm/v3/objects/contacts/batch/upsert').map((r) => r.status)).toEqual([
      409, 200,
    ]);
  });

  it('fails an input the account refuses for its own reasons with HubSpot’s words', async () => {
    sandbox.faults.rejectInputs({
      objectType: 'contacts',
      match: (p) => p.firstname === 'Mallory',
      property: 'firstname',
      error: 'BLOCKED_VALUE',
      message: 'Mallory is not an allowed value for firstname',
    });
    const records = contacts(3, (i) => ({
      email: `c${i}@example.com`,
      firstname: i % 3 === 0 ? 'Mallory' : `C${i}`,
    }));
    const { results } = await pushAll(records);
    const failed = results.filter((r) => r.status === 'error');
    expect(failed).toHaveLength(1);
    expect((failed[0] as { error: Error }).error.message).toContain(
      '(BLOCKED_VALUE): Mallory is not an allowed value for firstname',
    );
  });

  it('moves a contact whose link went stale (deleted at HubSpot) back to matching by email', async () => {
    const [rec] = contacts(1);
    const { results } = await pushAll([{ ...(rec as PushRecord), externalId: '999999999' }]);
    expect(results[0]).toMatchObject({ status: 'ok' });
    expect(sandbox.log.entries.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/crm/v3/objects/contacts/batch/update 404',
      '/crm/v3/objects/contacts/batch/upsert 200',
    ]);
  });
});
