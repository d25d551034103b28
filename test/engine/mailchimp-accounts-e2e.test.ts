import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMailchimpSandbox,
  type MailchimpSandbox,
} from '../../src/connectors/mailchimp/sandbox/index.js';
import type { CrmEventInput } from '../../src/events/envelope.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Mailchimp through the whole worker, where batches and accounts matter: one bad member in a
 * batch, its dead letter and replay, and two integrations on two Mailchimp accounts in one engine.
 */
const newKey = () => `${randomBytes(16).toString('hex')}-us${Math.floor(Math.random() * 20) + 1}`;
const keys = { a: newKey(), b: newKey(), batch: newKey() };
const lists = { a: 'audiencea', b: 'audienceb', batch: 'audiencebatch' };

let h: EngineHarness;
let sandbox: MailchimpSandbox;
const ids: Record<keyof typeof keys, string> = { a: '', b: '', batch: '' };

const inOrg = (event: CrmEventInput, organizationId: string) =>
  ({ ...event, organizationId }) as CrmEventInput;

async function rowsOf(table: 'sync_links' | 'sync_log' | 'sync_failures', integrationId: string) {
  const { rows } = await h.ctx.db.query(`SELECT * FROM crm_sync.${table} WHERE integration_id = $1`, [
    integrationId,
  ]);
  return rows as Record<string, unknown>[];
}

const successes = async (integrationId: string) =>
  (await rowsOf('sync_log', integrationId)).filter((r) => r.result === 'success');

beforeAll(async () => {
  sandbox = createMailchimpSandbox();
  const { url } = await sandbox.start();
  for (const k of ['a', 'b', 'batch'] as const) {
    sandbox.addAccount(keys[k], `account-${k}`);
    sandbox.addAudience({ id: lists[k], apiKey: keys[k] });
  }
  // Integrations without settings.baseUrl find the sandbox through MAILCHIMP_BASE_URL.
  h = await startEngineHarness({}, { MAILCHIMP_BASE_URL: url });
  const integration = (k: keyof typeof keys, organizationId: string, more: Record<string, unknown> = {}) =>
    h.applyIntegration({
      key: `mailchimp-${k}`,
      organizationId,
      provider: 'MAILCHIMP',
      name: `Mailchimp ${k}`,
      credentials: { apiKey: keys[k] },
      ...more,
      settings: { listId: lists[k], ...(more.settings as object | undefined) },
    });
  // Maps no CRM list for the engine: only the connector's own settings.lists map one.
  ids.a = (
    await integration('a', 'org_1', { settings: { lists: [{ crmListId: 12, target: 'From settings' }] } })
  ).integration.id;
  // Maps only a CRM list: contacts still get the connector's default mapping.
  ids.b = (
    await integration('b', 'org_1', { mappings: { lists: [{ crmListId: 7, target: 'Newsletter list' }] } })
  ).integration.id;
  ids.batch = (await integration('batch', 'org_batch')).integration.id;
}, 30_000);

afterAll(async () => {
  await h?.close();
  await sandbox?.stop();
});

describe('Mailchimp batches through the worker', () => {
  it('lands the good members of a batch and dead-letters the one bad member, once', async () => {
    const bad = 'person203@example.com';
    sandbox.faults.failEmail(bad, {
      title: 'Invalid Resource',
      detail: `${bad} looks fake or invalid, please enter a real email address.`,
      errorCode: 'ERROR_GENERIC',
    });
    const contacts = [201, 202, 203, 204, 205];
    await Promise.all(
      contacts.map((id) =>
        h.publish(
          inOrg(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 }), 'org_batch'),
        ),
      ),
    );
    const failures = await waitFor('the dead letter', async () => {
      const rows = await rowsOf('sync_failures', ids.batch);
      return rows.length > 0 && (await successes(ids.batch)).length === 4 && rows;
    });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      entity_id: '203',
      error_kind: 'permanent',
      status: 'open',
      attempts: 1,
    });
    expect(failures[0]!.error_message).toContain('looks fake or invalid');
    for (const id of [201, 202, 204, 205])
      expect(sandbox.member(lists.batch, `person${id}@example.com`)?.status).toBe('subscribed');
    expect(sandbox.member(lists.batch, bad)).toBeUndefined();
    // All five went in one batch-subscribe call.
    const batchCalls = sandbox.traffic.log.filter(
      (e) => e.method === 'POST' && e.path === `/lists/${lists.batch}`,
    );
    expect(batchCalls).toHaveLength(1);
  });

  it('replays the dead letter once the address is fixed at Mailchimp: the member lands, the letter closes', async () => {
    const [failure] = await rowsOf('sync_failures', ids.batch);
    sandbox.faults.clear();
    const results = await h.engine.replay({ ids: [failure!.id as number] });
    expect(results).toEqual([expect.objectContaining({ status: 'queued' })]);
    await waitFor('the replayed member', () => sandbox.member(lists.batch, 'person203@example.com'));
    await waitFor('the dead letter to close', async () => {
      const [row] = await rowsOf('sync_failures', ids.batch);
      return row?.status === 'replayed';
    });
    const link = await waitFor('the link', async () =>
      (await rowsOf('sync_links', ids.batch)).find((l) => l.entity_id === '203' && l.sync_hash),
    );
    expect(link.external_id).toBe(sandbox.member(lists.batch, 'person203@example.com')?.contact_id);
    expect(sandbox.audience(lists.batch).members.size).toBe(5);
  });

  it('keeps two integrations on two Mailchimp accounts apart: each sends only its own key', async () => {
    sandbox.traffic.reset();
    const event = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 301, version: 1 });
    await h.publish(event);
    await waitFor('both members', () =>
      ['a', 'b'].every((k) => sandbox.member(lists[k as 'a' | 'b'], 'person301@example.com')),
    );
    const a = sandbox.member(lists.a, 'person301@example.com');
    const b = sandbox.member(lists.b, 'person301@example.com');
    expect(a).toMatchObject({ merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' } });
    // B declares only mappings.lists: its contacts use the connector's default contact mapping.
    expect(b).toMatchObject({ merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace' } });
    await waitFor('both links', async () =>
      (await Promise.all([ids.a, ids.b].map(async (id) => (await successes(id)).length === 1))).every(
        Boolean,
      ),
    );

    const log = sandbox.traffic.log;
    expect(log.length).toBeGreaterThanOrEqual(2);
    // The sandbox names a request's account by the key it carried: every request to an
    // audience carried that audience's key, and none was refused.
    for (const entry of log) {
      const audience = /^\/lists\/([^/]+)/.exec(entry.path)?.[1];
      const expected = audience === lists.a ? 'account-a' : audience === lists.b ? 'account-b' : null;
      expect({ path: entry.path, account: entry.account }).toEqual({ path: entry.path, account: expected });
      expect(entry.status).toBeLessThan(400);
    }
    expect(new Set(log.map((e) => e.account))).toEqual(new Set(['account-a', 'account-b']));
  });

  it('syncs only the CRM lists an integration maps, in mappings.lists or the connector’s settings.lists', async () => {
    const event = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 401, version: 1 });
    await h.publish(event);
    await waitFor('both members', () =>
      ['a', 'b'].every((k) => sandbox.member(lists[k as 'a' | 'b'], 'person401@example.com')),
    );
    const membership = (listId: number, name: string) =>
      ({
        id: `evt_list_${randomBytes(6).toString('hex')}`,
        type: 'CRM_LIST_MEMBER_ADDED',
        organizationId: 'org_1',
        occurredAt: new Date().toISOString(),
        data: { list: { id: listId, name }, contact: event.data },
      }) as CrmEventInput;
    await h.publish(membership(12, 'Customers'));
    await h.publish(membership(99, 'Churned'));
    const logOf = async (integrationId: string, entityId: string) =>
      (await rowsOf('sync_log', integrationId)).find((r) => r.entity_id === entityId);
    const outcomes = await waitFor('the four list outcomes', async () => {
      const rows = await Promise.all(
        [ids.a, ids.b].flatMap((id) => ['12:401', '99:401'].map((entity) => logOf(id, entity))),
      );
      return rows.every(Boolean) && rows;
    });
    const [a12, a99, b12, b99] = outcomes.map((r) => ({ result: r?.result, error: r?.error }));
    // A: no mappings.lists, so its settings.lists decide: list 12 is a tag, list 99 is skipped.
    expect(a12).toEqual({ result: 'success', error: null });
    expect(a99).toEqual({
      result: 'skipped',
      error:
        'CRM list 99 (Churned) is not mapped to a Mailchimp tag (map it in mappings.lists or settings.lists)',
    });
    expect(sandbox.member(lists.a, 'person401@example.com')?.tags.map((t) => t.name)).toEqual([
      'From settings',
    ]);
    // B maps list 7 only: the engine skips the others itself.
    expect([b12, b99]).toEqual([
      { result: 'skipped', error: 'list_not_mapped' },
      { result: 'skipped', error: 'list_not_mapped' },
    ]);
    expect(sandbox.member(lists.b, 'person401@example.com')?.tags).toEqual([]);
  });

  it('rides out a 429 without Retry-After, as Mailchimp sends it, by pausing the account a second', async () => {
    sandbox.traffic.reset();
    sandbox.faults.add({
      method: 'POST',
      path: `/lists/${lists.batch}`,
      status: 429,
      title: 'Too Many Requests',
      detail: 'You have exceeded the limit of 10 simultaneous connections.',
      times: 1,
    });
    await h.publish(
      inOrg(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 501, version: 1 }), 'org_batch'),
    );
    await waitFor('the member', () => sandbox.member(lists.batch, 'person501@example.com'));
    const calls = sandbox.traffic.log.filter(
      (e) => e.method === 'POST' && e.path === `/lists/${lists.batch}`,
    );
    expect(calls.map((e) => e.status)).toEqual([429, 200]);
    // The connector's fallback pause (1 s) held the retry back; the job itself did not fail.
    expect(calls[1]!.t - calls[0]!.t).toBeGreaterThanOrEqual(900);
    expect((await rowsOf('sync_failures', ids.batch)).filter((r) => r.entity_id === '501')).toEqual([]);
  });

  it('stores no API key in links, the sync log or dead letters', async () => {
    const stored = JSON.stringify(
      await Promise.all(
        Object.values(ids).flatMap((id) =>
          (['sync_links', 'sync_log', 'sync_failures'] as const).map((t) => rowsOf(t, id)),
        ),
      ),
    );
    expect(stored.length).toBeGreaterThan(1000);
    for (const key of Object.values(keys)) {
      expect(stored).not.toContain(key);
      expect(stored).not.toContain(key.split('-')[0]);
      expect(stored).not.toContain(Buffer.from(`user:${key}`).toString('base64'));
    }
  });
});
