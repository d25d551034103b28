import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMailchimpSandbox,
  DEFAULT_MERGE_FIELDS,
  type MailchimpSandbox,
} from '../../src/connectors/mailchimp/sandbox/index.js';
import { NewestChangeStore } from '../../src/engine/newest-change-store.js';
import { syncNewest } from '../../src/engine/sync-batch.js';
import { CrmEvent, type CrmEventInput } from '../../src/events/envelope.js';
import { silentLogger } from '../../src/logging/logger.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Mailchimp through the whole worker: events on `crm-events` → router → sync queue → batcher →
 * the Mailchimp connector → the loopback sandbox, with links and the sync log in Postgres.
 */
const apiKey = `${randomBytes(16).toString('hex')}-us1`;
const LIST = 'e2eaudience';
const ACTIVE_CUSTOMERS = 12;

let h: EngineHarness;
let sandbox: MailchimpSandbox;
let integrationId: string;
let nextContact = 1;

const emailOf = (id: number) => `person${id}@example.com`;
const member = (email: string) => sandbox.member(LIST, email);
const tagsOf = (email: string) =>
  (member(email)?.tags ?? []).map((t) => t.name).sort((a, b) => a.localeCompare(b));

async function linkOf(entityType: string, entityId: number | string) {
  const { rows } = await h.ctx.db.query(
    `SELECT * FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = $2 AND entity_id = $3`,
    [integrationId, entityType, String(entityId)],
  );
  return rows[0] as
    | { external_id: string | null; sync_hash: string | null; state: Record<string, unknown> }
    | undefined;
}

async function logOf(entityId: number | string) {
  const { rows } = await h.ctx.db.query(
    `SELECT event_id, action, result, error FROM crm_sync.sync_log WHERE integration_id = $1 AND entity_id = $2 ORDER BY id`,
    [integrationId, String(entityId)],
  );
  return rows as { event_id: string; action: string; result: string; error: string | null }[];
}

/** Publishes the event and waits until the sync log has its outcome. */
async function sync(event: CrmEventInput, entityId: number | string, result = 'success') {
  await h.publish(event);
  let seen: Awaited<ReturnType<typeof logOf>> = [];
  try {
    return await waitFor(`${event.type} ${event.id} to be ${result}`, async () => {
      seen = await logOf(entityId);
      return seen.find((r) => r.event_id === event.id && r.result === result);
    });
  } catch (error) {
    // The sync log says what happened instead (skipped as unchanged, failed, retrying…).
    const rows = seen.filter((r) => r.event_id === event.id);
    throw new Error(`${(error as Error).message}; its sync log: ${JSON.stringify(rows)}`);
  }
}

async function createContact(data: Record<string, unknown> = {}) {
  const id = nextContact++;
  const event = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1, data });
  await sync(event, id);
  return { id, email: emailOf(id), data: { ...event.data } as Record<string, unknown> };
}

function tagEvent(
  type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED',
  contactId: number,
  tag: string,
  tags: string[],
) {
  const base = contactEvent({ contactId, data: { tags } });
  return { ...base, type, data: { ...base.data, tag } } as CrmEventInput;
}

function activityEvent(contactId: number, activity: Record<string, unknown>): CrmEventInput {
  return {
    id: `evt_act_${randomBytes(6).toString('hex')}`,
    type: 'CRM_ACTIVITY_CREATED',
    organizationId: 'org_1',
    occurredAt: new Date().toISOString(),
    data: { contactId, occurredAt: '2026-11-20T09:30:00.000Z', properties: {}, ...activity },
  } as CrmEventInput;
}

function listEvent(
  type: 'CRM_LIST_MEMBER_ADDED' | 'CRM_LIST_MEMBER_REMOVED',
  list: { id: number; name: string },
  contact: Record<string, unknown>,
): CrmEventInput {
  return {
    id: `evt_list_${randomBytes(6).toString('hex')}`,
    type,
    organizationId: 'org_1',
    occurredAt: new Date().toISOString(),
    data: { list, contact },
  } as CrmEventInput;
}

beforeAll(async () => {
  sandbox = createMailchimpSandbox({ limits: { maxConnections: 10 } });
  const { url } = await sandbox.start();
  sandbox.addAccount(apiKey, 'acme');
  sandbox.addAudience({
    id: LIST,
    apiKey,
    mergeFields: [
      ...DEFAULT_MERGE_FIELDS,
      { tag: 'PLAN', name: 'Plan', type: 'text', required: false, options: { size: 25 } },
      { tag: 'SEATS', name: 'Seats', type: 'number', required: false, options: {} },
    ],
  });
  h = await startEngineHarness();
  const applied = await h.applyIntegration({
    key: 'mailchimp-e2e',
    organizationId: 'org_1',
    provider: 'MAILCHIMP',
    name: 'Mailchimp - E2E',
    credentials: { apiKey },
    settings: { listId: LIST, baseUrl: url },
    mappings: {
      contact: {
        match: 'email',
        fields: [
          { source: 'email', target: 'EMAIL' },
          { source: 'givenName', target: 'FNAME' },
          { source: 'familyName', target: 'LNAME' },
          { source: 'properties.plan', target: 'PLAN' },
          { source: 'properties.seats', target: 'SEATS', transform: ['number'] },
        ],
      },
      lists: [{ crmListId: ACTIVE_CUSTOMERS, target: 'Active Customers' }],
    },
  });
  integrationId = applied.integration.id;
}, 30_000);

afterAll(async () => {
  await h?.close();
  await sandbox?.stop();
});

describe('Mailchimp end to end through the worker', () => {
  it('reads the merge fields ahead, when the sync worker starts, so the first push does not wait for them', async () => {
    const isRead = (e: { method: string; path: string }) =>
      e.method === 'GET' && e.path === `/lists/${LIST}/merge-fields`;
    await waitFor('the merge-field read-ahead', () => sandbox.traffic.log.some(isRead));
    const log = sandbox.traffic.log;
    expect(log.slice(0, log.findIndex(isRead)).filter((e) => e.path.includes('/members'))).toEqual([]);
  });

  it('creates a member with its merge fields and CRM tags, linked to the member contact_id', async () => {
    const c = await createContact({ tags: ['vip'], properties: { plan: 'Pro', seats: '12' } });
    expect(member(c.email)).toMatchObject({
      status: 'subscribed',
      merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace', PLAN: 'Pro', SEATS: 12 },
    });
    expect(tagsOf(c.email)).toEqual(['vip']);
    const link = await linkOf('contact', c.id);
    expect(link?.external_id).toBe(member(c.email)?.contact_id);
    expect(link?.state).toMatchObject({ email: c.email, status: 'subscribed', tags: ['vip'] });
  });

  it('adds and removes the tags the CRM sets, and leaves tags marketing added untouched', async () => {
    const c = await createContact({ tags: ['vip'] });
    // Marketing tags the member by hand in Mailchimp, with a name the CRM also uses later.
    const audience = sandbox.audience(LIST);
    audience.setTags(audience.find(c.email)!, [
      { name: 'Webinar', status: 'active' },
      { name: 'Newsletter', status: 'active' },
    ]);

    await sync(tagEvent('CRM_CONTACT_TAG_ADDED', c.id, 'beta', ['vip', 'beta']), c.id);
    expect(tagsOf(c.email)).toEqual(['beta', 'Newsletter', 'vip', 'Webinar']);

    await sync(tagEvent('CRM_CONTACT_TAG_REMOVED', c.id, 'vip', ['beta']), c.id);
    expect(tagsOf(c.email)).toEqual(['beta', 'Newsletter', 'Webinar']);

    // The CRM never set "Webinar": removing its own tag of that name leaves marketing's alone.
    const foreign = tagEvent('CRM_CONTACT_TAG_REMOVED', c.id, 'webinar', ['beta']);
    const row = await sync(foreign, c.id, 'skipped');
    expect(row.error).toMatch(/not set by the CRM/);
    expect(tagsOf(c.email)).toEqual(['beta', 'Newsletter', 'Webinar']);

    // A snapshot without "beta" removes it too; the hand-made tags stay.
    await sync(contactEvent({ contactId: c.id, version: 2, data: { tags: [] } }), c.id);
    expect(tagsOf(c.email)).toEqual(['Newsletter', 'Webinar']);
    expect((await linkOf('contact', c.id))?.state).toMatchObject({ tags: [] });
  });

  it('turns a NOTE into a member note and a CALL into a member event, each once', async () => {
    const c = await createContact();
    const note = activityEvent(c.id, { id: 9001, type: 'NOTE', content: 'Asked about annual billing' });
    const call = activityEvent(c.id, {
      id: 9002,
      type: 'CALL',
      content: 'Discovery call',
      properties: { durationMinutes: 30 },
    });
    await sync(note, 9001);
    await sync(call, 9002);
    expect(member(c.email)?.notes.map((n) => n.note)).toEqual(['Asked about annual billing']);
    expect(member(c.email)?.events).toEqual([
      expect.objectContaining({
        name: 'crm_call',
        occurred_at: '2026-11-20T09:30:00.000Z',
        properties: expect.objectContaining({ content: 'Discovery call', crm_activity_id: '9002' }),
      }),
    ]);
    expect((await linkOf('activity', 9001))?.external_id).toMatch(/^note:\d+$/);

    // The same activity again under a new event id (a CRM retry) adds nothing.
    const again = { ...note, id: `evt_act_${randomBytes(6).toString('hex')}` };
    const row = await sync(again, 9001, 'skipped');
    expect(row.error).toBe('already_linked');
    expect(member(c.email)?.notes).toHaveLength(1);
  });

  it('moves the same member to a changed email address instead of adding a second one', async () => {
    const c = await createContact();
    const contactId = member(c.email)?.contact_id;
    const size = sandbox.audience(LIST).members.size;
    const moved = `moved.${c.id}@example.org`;
    await sync(
      contactEvent({ contactId: c.id, version: 2, data: { email: moved, givenName: 'Augusta' } }),
      c.id,
    );
    expect(member(c.email)).toBeUndefined();
    expect(member(moved)).toMatchObject({ contact_id: contactId, merge_fields: { FNAME: 'Augusta' } });
    expect(sandbox.audience(LIST).members.size).toBe(size);
    expect((await linkOf('contact', c.id))?.state).toMatchObject({ email: moved });
  });

  it('never resubscribes a member who unsubscribed, before or after the first sync', async () => {
    // Unsubscribed in Mailchimp after the CRM created them.
    const c = await createContact();
    sandbox.setStatus(LIST, c.email, 'unsubscribed');
    await sync(contactEvent({ contactId: c.id, version: 2, data: { givenName: 'Ada B.' } }), c.id);
    expect(member(c.email)).toMatchObject({ status: 'unsubscribed', merge_fields: { FNAME: 'Ada B.' } });
    expect((await linkOf('contact', c.id))?.state).toMatchObject({ status: 'unsubscribed' });

    // Unsubscribed in Mailchimp before the CRM ever knew them.
    const id = nextContact++;
    sandbox.seedMember(LIST, { email: emailOf(id), status: 'unsubscribed' });
    await sync(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 }), id);
    expect(member(emailOf(id))).toMatchObject({ status: 'unsubscribed', merge_fields: { FNAME: 'Ada' } });
  });

  it('sets the mapped tag for members of a mapped CRM list, removes it, and skips unmapped lists', async () => {
    const c = await createContact();
    const list = { id: ACTIVE_CUSTOMERS, name: 'Customers (CRM)' };
    await sync(listEvent('CRM_LIST_MEMBER_ADDED', list, c.data), `${ACTIVE_CUSTOMERS}:${c.id}`);
    expect(tagsOf(c.email)).toEqual(['Active Customers']);

    const unmapped = listEvent('CRM_LIST_MEMBER_ADDED', { id: 99, name: 'Churned' }, c.data);
    const row = await sync(unmapped, `99:${c.id}`, 'skipped');
    expect(row.error).toBe('list_not_mapped');

    await sync(listEvent('CRM_LIST_MEMBER_REMOVED', list, c.data), `${ACTIVE_CUSTOMERS}:${c.id}`);
    expect(tagsOf(c.email)).toEqual([]);
  });

  it('merges: writes the winner, archives the loser, and drops the loser link', async () => {
    const winner = await createContact({ givenName: 'Winner' });
    const loser = await createContact({ givenName: 'Loser' });
    const event = {
      id: `evt_merge_${randomBytes(6).toString('hex')}`,
      type: 'CRM_CONTACT_MERGED',
      organizationId: 'org_1',
      occurredAt: new Date().toISOString(),
      version: 2,
      data: {
        winner: { ...winner.data, givenName: 'Merged', tags: ['merged'] },
        loserId: loser.id,
        loserEmail: loser.email,
      },
    } as CrmEventInput;
    await sync(event, winner.id);
    expect(member(winner.email)).toMatchObject({ status: 'subscribed', merge_fields: { FNAME: 'Merged' } });
    expect(tagsOf(winner.email)).toEqual(['merged']);
    expect(member(loser.email)?.status).toBe('archived');
    await waitFor('the loser link to go', async () => (await linkOf('contact', loser.id)) === undefined);
  });

  it('records both tags the CRM owns when two batches add tags to one member at once', async () => {
    // The micro-batcher flushes batches concurrently; two that hold one member must not both
    // start from the link as it was, or the later link write drops the tag the earlier one set.
    const c = await createContact();
    const rt = (await h.engine.registry.get(integrationId))!;
    const latest = new NewestChangeStore(h.ctx.redis(), h.prefix);
    const deps = { db: h.ctx.db, logger: silentLogger, pauseIntegration: async () => {}, latest };
    const tagItem = (tag: string) => ({
      event: CrmEvent.parse(tagEvent('CRM_CONTACT_TAG_ADDED', c.id, tag, [tag])),
      ref: { entityType: 'contact' as const, entityId: String(c.id) },
      operation: 'tag_add' as const,
      attemptsMade: 0,
    });

    const [first, second] = await Promise.all([
      syncNewest(rt, [tagItem('alpha')], deps),
      syncNewest(rt, [tagItem('beta')], deps),
    ]);

    expect([first[0]?.kind, second[0]?.kind]).toEqual(['synced', 'synced']);
    expect(tagsOf(c.email)).toEqual(['alpha', 'beta']);
    const link = await linkOf('contact', c.id);
    expect([...((link?.state.tags as string[] | undefined) ?? [])].sort()).toEqual(['alpha', 'beta']);
    await latest.close();
  });

  it('archives the member of an archived contact', async () => {
    const c = await createContact();
    await sync(
      contactEvent({
        type: 'CRM_CONTACT_ARCHIVED',
        contactId: c.id,
        version: 2,
        data: { status: 'ARCHIVED' },
      }),
      c.id,
    );
    expect(member(c.email)?.status).toBe('archived');
  });

  it('made every request with the integration key, met no error answer, and counted each one', async () => {
    const log = sandbox.traffic.log;
    const { rows } = await h.ctx.db.query(
      `SELECT coalesce(sum(api_calls), 0)::int AS calls FROM crm_sync.sync_log WHERE integration_id = $1`,
      [integrationId],
    );
    // Not a push's requests: the account lookup (GET /3.0/, once per key, when the runtime is
    // built) and the sync worker's read-ahead of the merge fields (the first read of them).
    const lookups = log.filter((e) => e.method === 'GET' && e.path === '/');
    expect(lookups).toHaveLength(1);
    const readAhead = log.find((e) => e.method === 'GET' && e.path === `/lists/${LIST}/merge-fields`);
    expect(readAhead).toBeDefined();
    expect(rows[0].calls).toBe(log.length - lookups.length - 1);
    expect(log.length).toBeGreaterThan(1);
    expect(log.filter((e) => e.account !== 'acme')).toEqual([]);
    expect(log.filter((e) => e.status >= 400 && e.status !== 404)).toEqual([]);
  });
});
