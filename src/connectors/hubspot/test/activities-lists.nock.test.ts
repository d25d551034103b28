import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { hubspot } from '../index.js';
import { contactData, event, hubspotContext, record } from './fixtures.js';
import {
  batchAnswer,
  expectAllDone,
  expectRequest,
  hsObject,
  hubspotError,
  resetNock,
} from './nock-hubspot.js';

const HUBSPOT_DEFINED = (associationTypeId: number) => ({
  associationCategory: 'HUBSPOT_DEFINED',
  associationTypeId,
});
const at = '2026-11-22T09:00:00.000Z';

function activity(id: number, type: string, extra: Record<string, unknown> = {}) {
  return record(
    event('CRM_ACTIVITY_CREATED', {
      id,
      contactId: 1,
      type,
      content: `${type} content`,
      occurredAt: at,
      ...extra,
    }),
    {
      operation: 'activity',
      entityType: 'activity',
    },
  );
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => resetNock());
afterAll(() => nock.enableNetConnect());

describe('HubSpot engagements from CRM activities (exact requests)', () => {
  it.each([
    ['NOTE', 'notes', 202, 190, {}, { hs_timestamp: at, hs_note_body: 'NOTE content' }],
    [
      'CALL',
      'calls',
      194,
      182,
      { title: 'Intro call', status: 'completed', direction: 'outbound', durationSeconds: 90 },
      {
        hs_timestamp: at,
        hs_call_title: 'Intro call',
        hs_call_body: 'CALL content',
        hs_call_status: 'COMPLETED',
        hs_call_direction: 'OUTBOUND',
        hs_call_duration: '90000',
      },
    ],
    [
      'MEETING',
      'meetings',
      200,
      188,
      { title: 'Demo', endTime: '2026-11-22T10:00:00.000Z' },
      {
        hs_timestamp: at,
        hs_meeting_title: 'Demo',
        hs_meeting_body: 'MEETING content',
        hs_meeting_start_time: at,
        hs_meeting_end_time: '2026-11-22T10:00:00.000Z',
      },
    ],
    [
      'EMAIL',
      'emails',
      198,
      186,
      { subject: 'Welcome', direction: 'INBOUND' },
      {
        hs_timestamp: at,
        hs_email_subject: 'Welcome',
        hs_email_text: 'EMAIL content',
        hs_email_direction: 'INCOMING_EMAIL',
      },
    ],
    [
      'TASK',
      'tasks',
      204,
      192,
      { subject: 'Follow up', priority: 'high', dueAt: '2026-11-30T09:00:00.000Z', status: 'open' },
      {
        hs_timestamp: '2026-11-30T09:00:00.000Z',
        hs_task_subject: 'Follow up',
        hs_task_body: 'TASK content',
        hs_task_status: 'NOT_STARTED',
        hs_task_priority: 'HIGH',
        hs_task_type: 'TODO',
      },
    ],
  ] as const)(
    'creates a %s as a %s engagement associated with its contact (%i) and company (%i)',
    async (type, objectType, toContact, toCompany, properties, expected) => {
      const ctx = hubspotContext({}, { 'contact:1': '501', 'company:9': '900' });
      const hs = hubspot.createClient(ctx);
      const rec = activity(10, type, { companyId: 9, properties });
      const create = expectRequest(
        'post',
        `/crm/v3/objects/${objectType}/batch/create`,
        {
          status: 201,
          body: batchAnswer([hsObject('7001', {}, { objectWriteTraceId: rec.key })]),
        },
        { spec: { file: objectType, template: `/crm/v3/objects/${objectType}/batch/create` } },
      );

      const [result] = await hs.push([rec]);

      expect(create.bodies).toEqual([
        {
          inputs: [
            {
              objectWriteTraceId: rec.key,
              properties: expected,
              associations: [
                { to: { id: '501' }, types: [HUBSPOT_DEFINED(toContact)] },
                { to: { id: '900' }, types: [HUBSPOT_DEFINED(toCompany)] },
              ],
            },
          ],
        },
      ]);
      expect(result).toEqual({ status: 'ok', externalId: '7001', state: { objectType } });
      expectAllDone();
    },
  );

  it('makes no call for a replayed activity that is already linked', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const rec = { ...activity(11, 'NOTE'), externalId: '7001', state: { objectType: 'notes' } };
    expect(await hubspot.createClient(ctx).push([rec])).toEqual([
      { status: 'ok', externalId: '7001', state: { objectType: 'notes' } },
    ]);
    expect(ctx.calls).toBe(0);
  });

  it('skips page views and custom events unless mapped, and writes a mapped one as a note', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501' });
    const hs = hubspot.createClient(ctx);
    const unmapped = activity(12, 'PAGE_VIEW');
    const mapped = {
      ...activity(13, 'CUSTOM_EVENT'),
      payload: { hs_note_body: 'Signed up for the webinar' },
    };
    const create = expectRequest('post', '/crm/v3/objects/notes/batch/create', {
      status: 201,
      body: batchAnswer([hsObject('7002', {}, { objectWriteTraceId: mapped.key })]),
    });

    const results = await hs.push([unmapped, mapped]);

    expect(results[0]).toEqual({
      status: 'skipped',
      reason: 'PAGE_VIEW activities are synced only when mapped',
    });
    expect(results[1]).toMatchObject({ status: 'ok', externalId: '7002' });
    expect(
      (create.bodies[0] as { inputs: { properties: Record<string, string> }[] }).inputs[0]?.properties
        .hs_note_body,
    ).toBe('Signed up for the webinar');
    expectAllDone();
  });

  it('finds an unlinked contact by email, and retries later when the contact is nowhere yet', async () => {
    const ctx = hubspotContext({});
    const hs = hubspot.createClient(ctx);
    const byEmail = activity(14, 'NOTE', { contactEmail: 'Ada@Example.com' });
    const unknown = activity(15, 'NOTE');
    const read = expectRequest(
      'post',
      '/crm/v3/objects/contacts/batch/read',
      {
        status: 200,
        body: batchAnswer([hsObject('601', { email: 'ada@example.com' })]),
      },
      { spec: { file: 'contacts', template: '/crm/v3/objects/contacts/batch/read' } },
    );
    expectRequest('post', '/crm/v3/objects/notes/batch/create', {
      status: 201,
      body: batchAnswer([hsObject('7003', {}, { objectWriteTraceId: byEmail.key })]),
    });

    const [found, missing] = await hs.push([byEmail, unknown]);

    expect(read.bodies).toEqual([
      {
        idProperty: 'email',
        inputs: [{ id: 'ada@example.com' }],
        properties: ['email'],
        propertiesWithHistory: [],
      },
    ]);
    expect(found).toMatchObject({ status: 'ok', externalId: '7003' });
    expect(missing).toMatchObject({
      status: 'error',
      error: { kind: 'retryable', code: 'CONTACT_NOT_SYNCED' },
    });
    expectAllDone();
  });
});

describe('HubSpot static lists from CRM lists (exact requests)', () => {
  const member = (
    contactId: number,
    listName: string,
    extra: Partial<Parameters<typeof record>[1]> = {},
    type: 'CRM_LIST_MEMBER_ADDED' | 'CRM_LIST_MEMBER_REMOVED' = 'CRM_LIST_MEMBER_ADDED',
  ) =>
    record(event(type, { list: { id: 12, name: listName }, contact: contactData(contactId) }), {
      operation: type === 'CRM_LIST_MEMBER_ADDED' ? 'list_add' : 'list_remove',
      entityType: 'list_membership',
      entityId: `12:${contactId}`,
      ...extra,
    });

  it('creates the list named by the mapping once and adds the members in one call', async () => {
    const ctx = hubspotContext({}, { 'contact:1': '501', 'contact:2': '502' });
    const hs = hubspot.createClient(ctx);
    expectRequest('get', '/crm/v3/lists/object-type-id/0-1/name/Active%20Customers?includeFilters=false', {
      status: 404,
      body: hubspotError('OBJECT_NOT_FOUND', 'List does not exist with name Active Customers.'),
    });
    const create = expectRequest(
      'post',
      '/crm/v3/lists',
      {
        status: 200,
        body: {
          list: {
            listId: '77',
            listVersion: 1,
            name: 'Active Customers',
            objectTypeId: '0-1',
            processingStatus: 'COMPLETE',
            processingType: 'MANUAL',
          },
        },
      },
      { spec: { file: 'lists', template: '/crm/v3/lists' } },
    );
    const add = expectRequest(
      'put',
      '/crm/v3/lists/77/memberships/add',
      {
        status: 200,
        body: { recordsIdsAdded: ['501', '502'], recordIdsRemoved: [], recordIdsMissing: [] },
      },
      { spec: { file: 'lists', template: '/crm/v3/lists/{listId}/memberships/add' } },
    );

    const results = await hs.push([
      member(1, 'ignored', { payload: { $listTarget: 'Active Customers' } }),
      member(2, 'ignored', { payload: { $listTarget: 'Active Customers' } }),
    ]);

    expect(create.bodies).toEqual([
      { name: 'Active Customers', objectTypeId: '0-1', processingType: 'MANUAL' },
    ]);
    expect(add.bodies).toEqual([['501', '502']]);
    expect(results).toEqual([
      { status: 'ok', externalId: '77:501', state: { listId: '77', contactId: '501' } },
      { status: 'ok', externalId: '77:502', state: { listId: '77', contactId: '502' } },
    ]);
    expectAllDone();

    // The list's id is remembered: the next push goes straight to the memberships.
    expectRequest('put', '/crm/v3/lists/77/memberships/add', {
      status: 200,
      body: { recordsIdsAdded: ['501'], recordIdsRemoved: [], recordIdsMissing: [] },
    });
    await hs.push([member(1, 'ignored', { payload: { $listTarget: 'Active Customers' } })]);
    expect(ctx.calls).toBe(4);
    expectAllDone();
  });

  it('upserts a member HubSpot does not know yet, then adds it and links it', async () => {
    const hs = hubspot.createClient(hubspotContext({}));
    expectRequest('post', '/crm/v3/objects/contacts/batch/read', { status: 200, body: batchAnswer([]) });
    const upsert = expectRequest('post', '/crm/v3/objects/contacts/batch/upsert', {
      status: 200,
      body: batchAnswer([hsObject('503', { email: 'user3@example.com' }, { new: true })]),
    });
    expectRequest('put', '/crm/v3/lists/77/memberships/add', {
      status: 200,
      body: { recordsIdsAdded: ['503'], recordIdsRemoved: [], recordIdsMissing: [] },
    });
    const rec = member(3, 'x', {
      payload: { $listTarget: '77', email: 'user3@example.com', firstname: 'Cy' },
    });

    const [result] = await hs.push([rec]);

    expect(upsert.bodies).toEqual([
      {
        inputs: [
          {
            id: 'user3@example.com',
            idProperty: 'email',
            objectWriteTraceId: rec.key,
            properties: { email: 'user3@example.com', firstname: 'Cy' },
          },
        ],
      },
    ]);
    expect(result).toEqual({
      status: 'ok',
      externalId: '77:503',
      state: { listId: '77', contactId: '503' },
      extraLinks: [{ entityType: 'contact', entityId: '3', externalId: '503' }],
    });
    expectAllDone();
  });

  it('removes a member from the list its link remembers, by a HubSpot list id', async () => {
    const hs = hubspot.createClient(hubspotContext({}));
    const remove = expectRequest(
      'put',
      '/crm/v3/lists/77/memberships/remove',
      {
        status: 200,
        body: { recordsIdsAdded: [], recordIdsRemoved: ['501'], recordIdsMissing: [] },
      },
      { spec: { file: 'lists', template: '/crm/v3/lists/{listId}/memberships/remove' } },
    );
    const [result] = await hs.push([
      member(
        1,
        'Customers',
        { state: { listId: '77', contactId: '501' }, externalId: '77:501' },
        'CRM_LIST_MEMBER_REMOVED',
      ),
    ]);
    expect(remove.bodies).toEqual([['501']]);
    expect(result).toMatchObject({ status: 'ok', externalId: '77:501' });
    expectAllDone();
  });

  it('fails the memberships of a mapped list id HubSpot does not have with a configuration error', async () => {
    const hs = hubspot.createClient(hubspotContext({}, { 'contact:1': '501' }));
    expectRequest('put', '/crm/v3/lists/999/memberships/add', {
      status: 404,
      body: hubspotError('OBJECT_NOT_FOUND', 'List does not exist with ID 999.'),
    });
    const [result] = await hs.push([member(1, 'x', { payload: { $listTarget: '999' } })]);
    expect(result).toMatchObject({ status: 'error' });
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('HubSpot list 999 does not exist (check mappings.lists)');
    expectAllDone();
  });
});
