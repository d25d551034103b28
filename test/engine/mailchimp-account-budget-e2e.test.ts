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
 * Mailchimp's rate budget through the whole worker: integrations whose API keys belong to one
 * account (two users' keys) share one, the account is asked once for every process, and a key
 * Mailchimp rejects pauses its integration as a rejected push does.
 */
const newKey = () => `${randomBytes(16).toString('hex')}-us1`;
const keys = { first: newKey(), colleague: newKey(), other: newKey(), rejected: newKey() };
const lists = { first: 'acmeone', colleague: 'acmetwo', other: 'globexone', rejected: 'nowhere' };
const ids: Record<keyof typeof keys, string> = { first: '', colleague: '', other: '', rejected: '' };

let h: EngineHarness;
let sandbox: MailchimpSandbox;

/** The API root requests Mailchimp answered (a rejected key's are not remembered, so asked again). */
const rootLookups = () =>
  sandbox.traffic.log.filter((e) => e.method === 'GET' && e.path === '/' && e.status === 200);

beforeAll(async () => {
  sandbox = createMailchimpSandbox();
  const { url } = await sandbox.start();
  sandbox.addAccount(keys.first, 'acme');
  sandbox.addAccount(keys.colleague, 'acme');
  sandbox.addAccount(keys.other, 'globex');
  // keys.rejected is no key of any account: the sandbox answers 401.
  for (const k of ['first', 'colleague', 'other'] as const)
    sandbox.addAudience({ id: lists[k], apiKey: keys[k] });
  h = await startEngineHarness({}, { MAILCHIMP_BASE_URL: url });
  for (const k of Object.keys(keys) as (keyof typeof keys)[]) {
    const { integration } = await h.applyIntegration({
      key: `mailchimp-${k}`,
      organizationId: k === 'rejected' ? 'org_rejected' : 'org_1',
      provider: 'MAILCHIMP',
      name: `Mailchimp ${k}`,
      credentials: { apiKey: keys[k] },
      settings: { listId: lists[k] },
    });
    ids[k] = integration.id;
  }
}, 30_000);

afterAll(async () => {
  await h?.close();
  await sandbox?.stop();
});

describe('Mailchimp accounts through the worker', () => {
  it('gives the integrations of one account one rate budget, whatever key each uses, and asks once per key', async () => {
    const [first, colleague, other] = await Promise.all(
      [ids.first, ids.colleague, ids.other].map((id) => h.engine.registry.get(id)),
    );
    const acme = `MAILCHIMP:account-${sandbox.accountIdOf('acme')}`;
    expect(first?.accountKey).toBe(acme);
    expect(colleague?.accountKey).toBe(acme);
    expect(colleague?.limiter).toBe(first?.limiter);
    expect(other?.accountKey).toBe(`MAILCHIMP:account-${sandbox.accountIdOf('globex')}`);

    // Another worker process reads the answers from Redis: no key is asked twice.
    const asked = rootLookups().length;
    const another = await h.startAnotherEngine({ relay: false });
    const elsewhere = await another.engine.registry.get(ids.colleague);
    expect(elsewhere?.accountKey).toBe(acme);
    expect(rootLookups()).toHaveLength(asked);
    expect(
      rootLookups()
        .map((e) => e.account)
        .sort(),
    ).toEqual(['acme', 'acme', 'globex']);

    const event = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 11, version: 1 });
    await h.publish(event);
    await waitFor('the member in every audience of org_1', () =>
      (['first', 'colleague', 'other'] as const).every((k) =>
        sandbox.member(lists[k], 'person11@example.com'),
      ),
    );
  });

  it('pauses the integration of a key Mailchimp rejects, saying why, as a rejected push does', async () => {
    const event = {
      ...contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 12, version: 1 }),
      organizationId: 'org_rejected',
    } as CrmEventInput;
    await h.publish(event);
    const row = await waitFor('the pause', async () => {
      const { rows } = await h.ctx.db.query(
        'SELECT status, status_reason FROM crm_sync.integrations WHERE id = $1',
        [ids.rejected],
      );
      return rows[0]?.status === 'paused' && (rows[0] as { status: string; status_reason: string });
    });
    expect(row.status_reason).toMatch(/^credentials rejected: .*Mailchimp rejected the API key/);
    expect(row.status_reason).not.toContain(keys.rejected.split('-')[0]);
  });
});
