import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordingLogger } from '../../../../test/helpers/recording-logger.js';
import type { PushRecord } from '../../types.js';
import { hubspot } from '../index.js';
import { event, hubspotContext, record } from './fixtures.js';
import {
  batchAnswer,
  expectAllDone,
  expectRequest,
  hsObject,
  hubspotError,
  resetNock,
} from './nock-hubspot.js';

/**
 * Retried activities (`PushRecord.retried`: an earlier attempt may have reached HubSpot, its
 * answer lost) look for the engagement before creating it: the contact's engagements of the
 * type (v4 associations), then their properties (batch read). Exact requests; any request not
 * set up here fails the push.
 */

const at = '2026-11-22T09:00:00.000Z';
const NOTE_READ = { file: 'notes', template: '/crm/v3/objects/notes/batch/read' };
const NOTE_CREATE = { file: 'notes', template: '/crm/v3/objects/notes/batch/create' };
const READ_PROPERTIES = ['hs_timestamp', 'hs_note_body'];

function activity(
  id: number,
  type: string,
  content: string,
  options: { contactId?: number; companyId?: number; retried?: boolean; properties?: object } = {},
): PushRecord {
  const { contactId = 1, companyId, retried = true, properties = {} } = options;
  const rec = record(
    event('CRM_ACTIVITY_CREATED', { id, contactId, companyId, type, content, occurredAt: at, properties }),
    { operation: 'activity', entityType: 'activity' },
  );
  return { ...rec, retried };
}

const note = (id: number, content: string, options: Parameters<typeof activity>[3] = {}) =>
  activity(id, 'NOTE', content, options);

/** A v4 listing page as HubSpot sends it (numeric ids, although its spec says strings). */
function listing(ids: readonly (string | number)[], after?: string) {
  return {
    results: ids.map((id) => ({
      toObjectId: Number(id),
      associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 201, label: null }],
    })),
    ...(after ? { paging: { next: { after, link: `https://api.hubapi.com/next?after=${after}` } } } : {}),
  };
}

const notesOf = (contactId: string, after?: string) =>
  `/crm/v4/objects/contacts/${contactId}/associations/notes?${after ? `after=${after}&` : ''}limit=500`;

/** A note as a batch read answers it. */
const storedNote = (id: string, body: string, extra: Record<string, string> = {}) =>
  hsObject(id, { hs_timestamp: at, hs_note_body: body, hs_object_id: id, ...extra });

const readBody = (ids: readonly string[]) => ({
  inputs: ids.map((id) => ({ id })),
  properties: READ_PROPERTIES,
  propertiesWithHistory: [],
});

const range = (from: number, to: number) =>
  Array.from({ length: Math.abs(to - from) + 1 }, (_, k) => String(from < to ? from + k : from - k));

function expectCreate(objectType: string, answers: { id: string; key: string }[]) {
  return expectRequest(
    'post',
    `/crm/v3/objects/${objectType}/batch/create`,
    {
      status: 201,
      body: batchAnswer(answers.map((a) => hsObject(a.id, {}, { objectWriteTraceId: a.key }))),
    },
    { spec: objectType === 'notes' ? NOTE_CREATE : undefined },
  );
}

const traceIds = (create: { bodies: unknown[] }) =>
  create.bodies
    .flatMap((b) => (b as { inputs: { objectWriteTraceId: string }[] }).inputs)
    .map((i) => i.objectWriteTraceId);

beforeAll(() => nock.disableNetConnect());
afterEach(() => resetNock());
afterAll(() => nock.enableNetConnect());

describe('HubSpot activities after a lost answer (exact requests)', () => {
  it('links a retried note HubSpot already has to it and creates nothing', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(20, 'Asked about annual billing');
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7001, 7002]) });
    const read = expectRequest(
      'post',
      '/crm/v3/objects/notes/batch/read',
      {
        status: 200,
        body: batchAnswer([
          // HubSpot's own form of the instant that was sent: the same time.
          storedNote('7002', 'Asked about annual billing', { hs_timestamp: '2026-11-22T09:00:00Z' }),
          storedNote('7001', 'Wants a demo'),
        ]),
      },
      { spec: NOTE_READ },
    );

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(read.bodies).toEqual([readBody(['7002', '7001'])]);
    expect(result).toEqual({ status: 'ok', externalId: '7002', state: { objectType: 'notes' } });
    expect(ctx.calls).toBe(2);
    expectAllDone();
  });

  it('makes the company association the found engagement’s create would have made', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501', 'company:9': '900' });
    const rec = note(21, 'Renewal call booked', { companyId: 9 });
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7003]) });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer([storedNote('7003', 'Renewal call booked')]),
    });
    const associate = expectRequest(
      'post',
      '/crm/v4/associations/notes/companies/batch/create',
      {
        status: 201,
        body: batchAnswer([
          {
            fromObjectTypeId: '0-46',
            fromObjectId: 7003,
            toObjectTypeId: '0-2',
            toObjectId: 900,
            labels: [],
          },
        ]),
      },
      {
        spec: {
          file: 'associations-v4',
          template: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create',
        },
      },
    );

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(associate.bodies).toEqual([
      {
        inputs: [
          {
            from: { id: '7003' },
            to: { id: '900' },
            types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 190 }],
          },
        ],
      },
    ]);
    expect(result).toEqual({ status: 'ok', externalId: '7003', state: { objectType: 'notes' } });
    expectAllDone();
  });

  it('creates only the retried note HubSpot does not have', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const landed = note(22, 'Sent the contract');
    const lost = note(23, 'Signed the contract');
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7004]) });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer([storedNote('7004', 'Sent the contract')]),
    });
    const create = expectCreate('notes', [{ id: '7005', key: lost.key }]);
    const log = recordingLogger();
    ctx.logger = log.logger;

    const results = await hubspot.createClient(ctx).push([landed, lost]);

    expect(traceIds(create)).toEqual([lost.key]);
    // Every engagement of the contact was read: the lost one is not there, nothing to warn of.
    expect(log.warnings()).toEqual([]);
    expect(results).toEqual([
      { status: 'ok', externalId: '7004', state: { objectType: 'notes' } },
      { status: 'ok', externalId: '7005', state: { objectType: 'notes' } },
    ]);
    expectAllDone();
  });

  it('lists a contact’s engagements once per type for all of its retried activities', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501', 'contact:2': '502' });
    const notes = [note(24, 'First'), note(25, 'Second'), note(26, 'Third')];
    const call = activity(27, 'CALL', 'Discussed pricing', { properties: { title: 'Pricing' } });
    const other = note(28, 'Other contact', { contactId: 2 });
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7011, 7012, 7013]) });
    expectRequest('get', '/crm/v4/objects/contacts/501/associations/calls?limit=500', {
      status: 200,
      body: listing([7021]),
    });
    expectRequest('get', notesOf('502'), { status: 200, body: listing([7031]) });
    const noteReads = expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer([
        storedNote('7013', 'Third'),
        storedNote('7012', 'Second'),
        storedNote('7011', 'First'),
      ]),
    });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer([storedNote('7031', 'Other contact')]),
    });
    const callRead = expectRequest('post', '/crm/v3/objects/calls/batch/read', {
      status: 200,
      body: batchAnswer([
        hsObject('7021', {
          hs_timestamp: at,
          hs_call_title: 'Pricing',
          hs_call_body: 'Discussed pricing',
          // Changed at HubSpot since: not what identifies the call.
          hs_call_status: 'NO_ANSWER',
        }),
      ]),
    });

    const results = await hubspot.createClient(ctx).push([...notes, call, other]);

    expect(noteReads.bodies[0]).toEqual(readBody(['7013', '7012', '7011']));
    expect(callRead.bodies).toEqual([
      {
        inputs: [{ id: '7021' }],
        properties: ['hs_timestamp', 'hs_call_title', 'hs_call_body'],
        propertiesWithHistory: [],
      },
    ]);
    expect(results.map((r) => (r as { externalId?: string }).externalId)).toEqual([
      '7011',
      '7012',
      '7013',
      '7021',
      '7031',
    ]);
    expectAllDone();
  });

  it('reads more than 100 associated engagements in batch reads of 100, newest first', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(29, 'Never landed');
    // Listed in HubSpot's (undocumented) order; read highest id first.
    expectRequest('get', notesOf('501'), { status: 200, body: listing(range(8001, 8250)) });
    const reads = [range(8250, 8151), range(8150, 8051), range(8050, 8001)].map((ids) =>
      expectRequest(
        'post',
        '/crm/v3/objects/notes/batch/read',
        { status: 200, body: batchAnswer(ids.map((id) => storedNote(id, `Note ${id}`))) },
        { spec: NOTE_READ },
      ),
    );
    const create = expectCreate('notes', [{ id: '9001', key: rec.key }]);

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(reads.flatMap((r) => r.bodies)).toEqual([
      readBody(range(8250, 8151)),
      readBody(range(8150, 8051)),
      readBody(range(8050, 8001)),
    ]);
    expect(traceIds(create)).toEqual([rec.key]);
    expect(result).toMatchObject({ status: 'ok', externalId: '9001' });
    expectAllDone();
  });

  it('stops reading as soon as every retried activity of the contact is found', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(30, 'Just created');
    expectRequest('get', notesOf('501'), { status: 200, body: listing(range(8001, 8250)) });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer(
        range(8250, 8151).map((id) => storedNote(id, id === '8250' ? 'Just created' : 'Old')),
      ),
    });

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(result).toMatchObject({ status: 'ok', externalId: '8250' });
    expect(ctx.calls).toBe(2);
    expectAllDone();
  });

  it('lists at most 4 pages of a contact’s engagements of one type', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(31, 'Beyond the pages');
    expectRequest('get', notesOf('501'), { status: 200, body: listing([8001, 8002], 'p2') });
    expectRequest('get', notesOf('501', 'p2'), { status: 200, body: listing([8003, 8004], 'p3') });
    expectRequest('get', notesOf('501', 'p3'), { status: 200, body: listing([8005, 8006], 'p4') });
    // A fifth page exists; it is not read.
    expectRequest('get', notesOf('501', 'p4'), { status: 200, body: listing([8007, 8008], 'p5') });
    const read = expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer(range(8008, 8001).map((id) => storedNote(id, 'Old'))),
    });
    expectCreate('notes', [{ id: '9002', key: rec.key }]);
    const log = recordingLogger();
    ctx.logger = log.logger;

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(read.bodies).toEqual([readBody(range(8008, 8001))]);
    expect(result).toMatchObject({ status: 'ok', externalId: '9002' });
    expect(ctx.calls).toBe(6);
    // Operators hear that the look stopped short of the contact's other engagements.
    expect(log.warnings()).toEqual([
      'retried activities not found among the engagements a look reads (the contact has more of this type): they are created, and may appear twice in HubSpot',
    ]);
    expect(log.lines()[0]).toMatchObject({
      hubspotContactId: '501',
      objectType: 'notes',
      read: 8,
      unmatched: 1,
    });
    expectAllDone();
  });

  it('reads at most the newest 1,000 of the listed engagements', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(32, 'Not among them');
    expectRequest('get', notesOf('501'), { status: 200, body: listing(range(10_001, 10_500), 'p2') });
    expectRequest('get', notesOf('501', 'p2'), { status: 200, body: listing(range(10_501, 11_000), 'p3') });
    expectRequest('get', notesOf('501', 'p3'), { status: 200, body: listing(range(11_001, 11_200)) });
    const reads = Array.from({ length: 10 }, (_, k) => {
      const ids = range(11_200 - 100 * k, 11_101 - 100 * k);
      return expectRequest('post', '/crm/v3/objects/notes/batch/read', {
        status: 200,
        body: batchAnswer(ids.map((id) => storedNote(id, 'Old'))),
      });
    });
    expectCreate('notes', [{ id: '9003', key: rec.key }]);
    const log = recordingLogger();
    ctx.logger = log.logger;

    const [result] = await hubspot.createClient(ctx).push([rec]);
    expect(log.lines()).toMatchObject([{ read: 1000, unmatched: 1 }]);

    expect(reads.flatMap((r) => r.bodies)).toEqual(
      Array.from({ length: 10 }, (_, k) => readBody(range(11_200 - 100 * k, 11_101 - 100 * k))),
    );
    expect(result).toMatchObject({ status: 'ok', externalId: '9003' });
    expectAllDone();
  });

  it('makes no read for an activity that is not retried', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(33, 'First attempt', { retried: false });
    const create = expectCreate('notes', [{ id: '9004', key: rec.key }]);

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(traceIds(create)).toEqual([rec.key]);
    expect(result).toMatchObject({ status: 'ok', externalId: '9004' });
    expect(ctx.calls).toBe(1);
    expectAllDone();
  });

  it('gives one engagement to one of two identical retried activities and creates the other', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const first = note(34, 'Left a voicemail');
    const second = note(35, 'Left a voicemail');
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7041]) });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer([storedNote('7041', 'Left a voicemail')]),
    });
    const create = expectCreate('notes', [{ id: '7042', key: second.key }]);

    const results = await hubspot.createClient(ctx).push([first, second]);

    expect(traceIds(create)).toEqual([second.key]);
    expect(results.map((r) => (r as { externalId?: string }).externalId)).toEqual(['7041', '7042']);
    expectAllDone();
  });

  it('does not take an identical engagement created before the activity’s event', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(36, 'Weekly check-in');
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7051]) });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      // The event occurred at 10:30; this one was created at 10:00, before any attempt.
      body: batchAnswer([
        { ...storedNote('7051', 'Weekly check-in'), createdAt: '2026-11-22T10:00:00.000Z' },
      ]),
    });
    const create = expectCreate('notes', [{ id: '7052', key: rec.key }]);

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(traceIds(create)).toEqual([rec.key]);
    expect(result).toMatchObject({ status: 'ok', externalId: '7052' });
    expectAllDone();
  });

  it('creates nothing when the look fails: the push fails, to be retried', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(37, 'Unknown fate');
    expectRequest('get', notesOf('501'), {
      status: 503,
      body: hubspotError('INTERNAL_ERROR', 'Service unavailable'),
    });

    await expect(hubspot.createClient(ctx).push([rec])).rejects.toMatchObject({
      kind: 'retryable',
      status: 503,
    });
    expectAllDone();
  });
  it('retries a found engagement whose company association failed, without creating it', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501', 'company:9': '900' });
    const rec = note(38, 'Quote accepted', { companyId: 9 });
    expectRequest('get', notesOf('501'), { status: 200, body: listing([7061]) });
    expectRequest('post', '/crm/v3/objects/notes/batch/read', {
      status: 200,
      body: batchAnswer([storedNote('7061', 'Quote accepted')]),
    });
    expectRequest('post', '/crm/v4/associations/notes/companies/batch/create', {
      status: 502,
      body: hubspotError('INTERNAL_ERROR', 'Bad gateway'),
    });

    const [result] = await hubspot.createClient(ctx).push([rec]);

    expect(result).toMatchObject({ status: 'error', error: { kind: 'retryable', status: 502 } });
    expectAllDone();
  });

  it('creates nothing when HubSpot’s listing is not what its API documents', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = note(39, 'Odd answer');
    expectRequest('get', notesOf('501'), { status: 200, body: { results: [{ id: 7071 }] } });

    await expect(hubspot.createClient(ctx).push([rec])).rejects.toMatchObject({
      kind: 'retryable',
      code: 'UNREADABLE_ANSWER',
      message:
        'HubSpot contact notes associations read: unexpected answer (results.0.toObjectId: invalid_union)',
    });
    expectAllDone();
  });
});

describe('HubSpot activities of several types in one push (exact requests)', () => {
  it('links the notes created before the calls’ create failed, rather than failing them with it', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const created = note(40, 'Created', { retried: false });
    const failing = activity(41, 'CALL', 'Not created', { retried: false });
    expectCreate('notes', [{ id: '7081', key: created.key }]);
    expectRequest('post', '/crm/v3/objects/calls/batch/create', {
      status: 503,
      body: hubspotError('INTERNAL_ERROR', 'Service unavailable'),
    });

    const results = await hubspot.createClient(ctx).push([created, failing]);

    expect(results[0]).toEqual({ status: 'ok', externalId: '7081', state: { objectType: 'notes' } });
    expect(results[1]).toMatchObject({ status: 'error', error: { kind: 'retryable', status: 503 } });
    expectAllDone();
  });
});
