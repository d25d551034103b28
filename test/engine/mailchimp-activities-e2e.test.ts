import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailchimpSandbox } from '../../src/connectors/mailchimp/sandbox/index.js';
import type { CrmEventInput } from '../../src/events/envelope.js';
import { getIntegrationById, setIntegrationStatus } from '../../src/store/integrations-repo.js';
import { contactEvent, type EngineHarness } from '../helpers/engine-harness.js';
import { type MailchimpWorker, startMailchimpWorker } from '../helpers/mailchimp-worker.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Mailchimp activities through the whole worker against the sandbox, where answers get lost:
 * a note or event Mailchimp added although its answer never came is looked for by the retry
 * (which the engine marks `retried`) and exists once; many activities go as one batch run.
 * Its own file: the faults here answer 500s, which mailchimp-e2e.test.ts asserts it never meets.
 */
const LIST = 'e2eactivities';
const BULK_FROM = 10;

let h: EngineHarness;
let sandbox: MailchimpSandbox;
let integrationId: string;
let nextContact = 1;
let nextActivity = 7000;

const emailOf = (id: number) => `person${id}@example.com`;
const member = (email: string) => sandbox.member(LIST, email);

async function results(entityId: number | string) {
  const { rows } = await h.ctx.db.query(
    `SELECT event_id, result FROM crm_sync.sync_log WHERE integration_id = $1 AND entity_id = $2 ORDER BY id`,
    [integrationId, String(entityId)],
  );
  return rows as { event_id: string; result: string }[];
}

async function linkOf(entityType: string, entityId: number) {
  const { rows } = await h.ctx.db.query(
    `SELECT external_id FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = $2 AND entity_id = $3`,
    [integrationId, entityType, String(entityId)],
  );
  return rows[0] as { external_id: string | null } | undefined;
}

/** Waits until the event's record was synced; bounded by waitFor's timeout. */
async function synced(event: CrmEventInput, entityId: number) {
  await waitFor(`${event.id} to be synced`, async () =>
    (await results(entityId)).some((r) => r.event_id === event.id && r.result === 'success'),
  );
}

async function createContacts(count: number) {
  const ids = Array.from({ length: count }, () => nextContact++);
  const events = ids.map((id) => contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 }));
  await Promise.all(events.map((event) => h.publish(event)));
  await Promise.all(events.map((event, i) => synced(event, ids[i] as number)));
  return ids;
}

function activityEvent(contactId: number, activity: Record<string, unknown>) {
  const id = nextActivity++;
  const event = {
    id: `evt_act_${randomBytes(6).toString('hex')}`,
    type: 'CRM_ACTIVITY_CREATED',
    organizationId: 'org_1',
    occurredAt: new Date().toISOString(),
    data: { id, contactId, occurredAt: '2026-11-20T09:30:00.000Z', properties: {}, ...activity },
  } as CrmEventInput;
  return { id, event };
}

/** A note for even positions, a call for odd ones, one per contact. */
function activitiesOf(contacts: readonly number[]) {
  return contacts.map((contactId, i) =>
    activityEvent(
      contactId,
      i % 2 === 0 ? { type: 'NOTE', content: `Note for ${contactId}` } : { type: 'CALL', content: 'Call' },
    ),
  );
}

function expectEachOnce(contacts: readonly number[], activities: readonly { id: number }[]) {
  contacts.forEach((contactId, i) => {
    const m = member(emailOf(contactId));
    if (i % 2 === 0)
      expect(
        m?.notes.map((n) => n.note),
        `contact ${contactId}`,
      ).toEqual([`Note for ${contactId}`]);
    else
      expect(
        m?.events.map((e) => e.properties.crm_activity_id),
        `contact ${contactId}`,
      ).toEqual([String(activities[i]?.id)]);
  });
}

const memberPath = (contactId: number) => `/lists/${LIST}/members/${member(emailOf(contactId))?.contact_id}`;
const isActivityPost = (request: { method: string; path: string }) =>
  request.method === 'POST' && /\/members\/[^/]+\/(notes|events)$/.test(request.path);

/** The note and event POSTs of the batch runs since the first `runsBefore`. */
const activityPostsInRuns = (runsBefore: number) =>
  sandbox
    .batches()
    .slice(runsBefore)
    .flatMap((b) => b.requests)
    .filter((r) => /^POST .*\/(notes|events)$/.test(r));

let worker: MailchimpWorker | undefined;
beforeAll(async () => {
  worker = await startMailchimpWorker({
    key: 'mailchimp-activities-e2e',
    listId: LIST,
    // The sandbox carries a write out before it answers: nothing is still under way to wait for.
    settings: { batchUpdatesFrom: BULK_FROM, lostAnswerWaitMs: 0 },
  });
  ({ h, sandbox, integrationId } = worker);
}, 30_000);

afterAll(async () => {
  await worker?.close();
});

describe('Mailchimp activities whose answers get lost, through the worker', () => {
  it('adds a note once when Mailchimp added it but answered 500, because the retry looks first', async () => {
    const [contactId] = (await createContacts(1)) as [number];
    const path = `${memberPath(contactId)}/notes`;
    sandbox.faults.add({ method: 'POST', path, status: 500, applied: true });
    const { id, event } = activityEvent(contactId, { type: 'NOTE', content: 'Asked about annual billing' });
    await h.publish(event);
    await synced(event, id);

    const notes = member(emailOf(contactId))?.notes ?? [];
    expect(notes.map((n) => n.note)).toEqual(['Asked about annual billing']);
    expect((await linkOf('activity', id))?.external_id).toBe(`note:${notes[0]?.id}`);
    expect((await results(id)).map((r) => r.result)).toEqual(['retrying', 'success']);
    const requests = sandbox.traffic.log.filter((e) => e.path === path).map((e) => `${e.method} ${e.status}`);
    expect(requests).toEqual(['POST 500', 'GET 200']);
  });

  it('adds an event once when the connection dropped after Mailchimp added it', async () => {
    const [contactId] = (await createContacts(1)) as [number];
    const path = `${memberPath(contactId)}/events`;
    sandbox.faults.add({ method: 'POST', path, status: 500, applied: true, drop: true });
    const { id, event } = activityEvent(contactId, { type: 'MEETING', content: 'Kick-off' });
    await h.publish(event);
    await synced(event, id);

    expect(member(emailOf(contactId))?.events).toEqual([
      expect.objectContaining({
        name: 'crm_meeting',
        properties: expect.objectContaining({ crm_activity_id: String(id) }),
      }),
    ]);
    expect((await linkOf('activity', id))?.external_id).toBe(`event:${id}`);
    const requests = sandbox.traffic.log.filter((e) => e.path === path).map((e) => `${e.method} ${e.status}`);
    expect(requests).toEqual(['POST 0', 'GET 200']);
  });

  it(`sends ${BULK_FROM * 2} activities of linked members as a batch run, each added once, in a few requests`, async () => {
    const contacts = await createContacts(BULK_FROM * 2);
    const before = sandbox.traffic.log.length;
    const runsBefore = sandbox.batches().length;
    const activities = activitiesOf(contacts);
    await Promise.all(activities.map(({ event }) => h.publish(event)));
    await Promise.all(activities.map(({ id, event }) => synced(event, id)));

    expectEachOnce(contacts, activities);
    const log = sandbox.traffic.log.slice(before);
    expect(log.filter(isActivityPost)).toEqual([]);
    // A submit, a few status reads and the results per run, against one request per activity.
    expect(log.length).toBeLessThan(activities.length / 2);
    expect(activityPostsInRuns(runsBefore)).toHaveLength(activities.length);
  });

  it('posts none of the activities again when their run’s results are lost and the retry finds them', async () => {
    const contacts = await createContacts(BULK_FROM + 2);
    const before = sandbox.traffic.log.length;
    const runsBefore = sandbox.batches().length;
    // The run is applied, but its results archive cannot be downloaded: every outcome is unknown.
    sandbox.faults.add({ path: '/__sandbox/batch-results/', status: 500, times: 1 });
    const activities = activitiesOf(contacts);
    await Promise.all(activities.map(({ event }) => h.publish(event)));
    await Promise.all(activities.map(({ id, event }) => synced(event, id)));

    expectEachOnce(contacts, activities);
    for (const { id } of activities)
      expect((await results(id)).map((r) => r.result)).toEqual(['retrying', 'success']);
    const log = sandbox.traffic.log.slice(before);
    expect(log.filter((e) => e.path.startsWith('/__sandbox/batch-results/')).map((e) => e.status)).toContain(
      500,
    );
    expect(log.filter(isActivityPost)).toEqual([]);
    // One POST per activity in all of the runs: the first run's, none from the retry.
    expect(activityPostsInRuns(runsBefore)).toHaveLength(activities.length);
  });

  // Last: it pauses the integration the other tests use.
  it('adds a note once when Mailchimp added it but answered 401: held by the pause, it looks first after the resume', async () => {
    const [contactId] = (await createContacts(1)) as [number];
    const path = `${memberPath(contactId)}/notes`;
    sandbox.faults.add({ method: 'POST', path, status: 401, applied: true });
    const { id, event } = activityEvent(contactId, { type: 'NOTE', content: 'Wants a demo' });
    await h.publish(event);
    await waitFor(
      'the pause',
      async () => (await getIntegrationById(h.ctx.db, integrationId))?.status === 'paused',
    );
    await setIntegrationStatus(h.ctx.db, integrationId, { status: 'active', reason: null });
    await synced(event, id);

    expect(member(emailOf(contactId))?.notes.map((n) => n.note)).toEqual(['Wants a demo']);
    const requests = sandbox.traffic.log.filter((e) => e.path === path).map((e) => `${e.method} ${e.status}`);
    expect(requests).toEqual(['POST 401', 'GET 200']);
  });
});
