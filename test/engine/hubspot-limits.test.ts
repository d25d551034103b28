import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextMidnight } from '../../src/connectors/hubspot/quota-clock.js';
import { HubSpotSandbox } from '../../src/connectors/hubspot/sandbox/index.js';
import { providerRateLimitedTotal, providerRequestsTotal } from '../../src/metrics/provider-metrics.js';
import { getIntegrationById, setIntegrationStatus } from '../../src/store/integrations-repo.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * HubSpot's limits as the worker meets them, against sandboxes that enforce them: a rolling
 * window much smaller than the integration believes (a 429 storm), and a spent daily quota.
 */

/** What HubSpot allows the storm's account: 3 requests per rolling 2 s, 429 beyond. */
const HUBSPOT_WINDOW = { max: 3, perMs: 2000 };
const STORM_RECORDS = 800;
/**
 * A request the engine had already sent when a 429 came back still arrives after it; the pause
 * binds the requests that start later. Loopback delivers in well under this.
 */
const IN_FLIGHT_GRACE_MS = 100;

const storm = new HubSpotSandbox({ rateLimit: HUBSPOT_WINDOW, accessToken: 'pat-storm' });
const quota = new HubSpotSandbox({ dailyLimit: 1000, accessToken: 'pat-quota' });
let h: EngineHarness;

async function counterValue(counter: Counter, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  const matches = (v: (typeof values)[number]) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value);
  return values.find(matches)?.value ?? 0;
}

const linkedCount = async (integrationId: string) => {
  const { rows } = await h.ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM crm_sync.sync_links
      WHERE integration_id = $1 AND entity_type = 'contact' AND external_id IS NOT NULL`,
    [integrationId],
  );
  return rows[0]!.n;
};
const failuresOf = async (integrationId: string) =>
  (await h.ctx.db.query(`SELECT * FROM crm_sync.sync_failures WHERE integration_id = $1`, [integrationId]))
    .rows;

beforeAll(async () => {
  await Promise.all([storm.start(), quota.start()]);
  h = await startEngineHarness();
});

afterAll(async () => {
  await h?.close();
  await Promise.all([storm.stop(), quota.stop()]);
});

describe('a 429 storm', () => {
  it('lands every record, and sends nothing while the account is paused after a 429', async () => {
    const integrationId = (
      await h.applyIntegration({
        key: 'hubspot-storm',
        organizationId: 'org_storm',
        provider: 'HUBSPOT',
        name: 'HubSpot with a budget it does not have',
        credentials: { accessToken: 'pat-storm' },
        settings: { baseUrl: storm.url },
        // The integration believes the account allows far more than HubSpot does: HubSpot's
        // answers are what keep it in line.
        rateLimit: { max: 100, perMs: HUBSPOT_WINDOW.perMs },
      })
    ).integration.id;
    await waitFor('the storm integration’s runtime', () => h.engine.registry.get(integrationId));

    for (let i = 0; i < STORM_RECORDS; i++) {
      await h.publish({
        ...contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 10_000 + i, version: 1 }),
        organizationId: 'org_storm',
      });
    }
    await waitFor(
      'every record linked',
      async () => (await linkedCount(integrationId)) === STORM_RECORDS,
      45_000,
      100,
    );

    const entries = storm.log.entries;
    const tooMany = entries.filter((r) => r.rateLimited);
    expect(tooMany.length).toBeGreaterThanOrEqual(2);
    expect(tooMany[0]?.answer).toMatchObject({ policyName: 'TEN_SECONDLY_ROLLING' });
    // The sandbox's requests log with timestamps: after each 429 (answered without Retry-After,
    // so the pause is the window HubSpot names), no request arrives until the pause is over.
    for (const answer429 of tooMany) {
      const pauseFrom = answer429.finishedAt + IN_FLIGHT_GRACE_MS;
      const pauseTo = answer429.finishedAt + HUBSPOT_WINDOW.perMs;
      const during = entries.filter((r) => r.at > pauseFrom && r.at < pauseTo);
      expect(during, `requests during the pause after the 429 at ${answer429.finishedAt}`).toEqual([]);
    }
    expect(storm.log.maxInWindow(HUBSPOT_WINDOW.perMs, (r) => !r.rateLimited)).toBeLessThanOrEqual(
      HUBSPOT_WINDOW.max,
    );
    // Everything landed once: no duplicates, nothing dead-lettered.
    const emails = storm.store.all('contacts').map((c) => c.properties.email);
    expect(emails).toHaveLength(STORM_RECORDS);
    expect(new Set(emails).size).toBe(STORM_RECORDS);
    expect(await failuresOf(integrationId)).toEqual([]);
    // Batches of 100: the requests that landed are about one per hundred records.
    expect(entries.filter((r) => r.status === 200).length).toBeLessThanOrEqual(STORM_RECORDS / 100 + 2);
    // The operator sees the same on /metrics: every request the sandbox saw, and its 429s.
    const labels = { integration: 'hubspot-storm', provider: 'HUBSPOT' };
    expect(await counterValue(providerRequestsTotal, labels)).toBe(entries.length);
    expect(await counterValue(providerRateLimitedTotal, { ...labels, scope: 'window' })).toBe(tooMany.length);
  }, 60_000);
});

describe('the daily quota', () => {
  it('pauses the integration until midnight in the account’s zone, says why, and holds its work', async () => {
    const integrationId = (
      await h.applyIntegration({
        key: 'hubspot-quota',
        organizationId: 'org_quota',
        provider: 'HUBSPOT',
        name: 'HubSpot near its daily quota',
        credentials: { accessToken: 'pat-quota' },
        settings: { baseUrl: quota.url, timeZone: 'Europe/Berlin' },
      })
    ).integration.id;
    await waitFor('the quota integration’s runtime', () => h.engine.registry.get(integrationId));
    const event = (id: number) => ({
      ...contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 }),
      organizationId: 'org_quota',
    });
    quota.setDailyRemaining(1);

    await h.publish(event(1));
    await waitFor('the first contact', async () => (await linkedCount(integrationId)) === 1);
    const rt = await h.engine.registry.get(integrationId);
    expect(rt?.quota).toMatchObject({ dailyMax: 1000, dailyRemaining: 0 });

    const second = event(2);
    await h.publish(second);
    const paused = await waitFor('the pause', async () => {
      const integration = await getIntegrationById(h.ctx.db, integrationId);
      return integration?.status === 'paused' && integration;
    });
    const midnight = nextMidnight(new Date(), 'Europe/Berlin').getTime();
    expect(paused.statusReason).toMatch(
      /^daily API quota exhausted: HubSpot contacts batch upsert: 429 RATE_LIMIT: You have reached your daily limit\. \(daily quota: paused until midnight Europe\/Berlin\)$/,
    );
    expect(Math.abs(paused.pausedUntil!.getTime() - midnight)).toBeLessThan(5000);
    expect(quota.log.entries.map((r) => r.status)).toEqual([200, 429]);
    expect(await failuresOf(integrationId)).toEqual([]);

    // Work that arrives during the pause waits for the reset; nothing reaches HubSpot.
    const third = event(3);
    await h.publish(third);
    const queue = h.engine.queueFor(integrationId);
    for (const e of [second, third]) {
      // Held until the reset: in a delayed job that runs no earlier than the pause's end (a job
      // that was taken and put back, or the job the processor made of records a 429 stopped),
      // not one that is only waiting out its coalescing window.
      await waitFor(`${e.id} held until the reset`, async () => {
        for (const j of await queue.getJobs(['delayed'])) {
          const items = (j.data as { items: { event: { id: string } }[] }).items;
          if (!items.some((i) => i.event.id === e.id)) continue;
          const at = (j.processedOn ?? j.timestamp) + j.delay;
          if (at >= paused.pausedUntil!.getTime() - 5000) return at;
        }
        return undefined;
      });
    }
    expect(quota.log.count()).toBe(2);

    // The quota resets (an operator resumes, or midnight comes): the held work lands.
    quota.setDailyRemaining(1000);
    await setIntegrationStatus(h.ctx.db, integrationId, { status: 'active', reason: null });
    await waitFor('the held contacts', async () => (await linkedCount(integrationId)) === 3, 20_000);
    expect(quota.store.all('contacts')).toHaveLength(3);
  }, 60_000);
});
