import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { adminUrl } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Postgres dropping every connection of crm-sync in the middle of a burst (a failover, a restart,
 * an operator's pg_terminate_backend): statements in flight fail, the pool reconnects, and the
 * engine must finish the burst with nothing lost and nothing dead-lettered for it.
 */
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const CONTACTS = 200;
/** Published while `processed_events` is locked, so their claims wait and are cut off. */
const LATE = 20;

let h: EngineHarness;
let receiver: WebhookReceiver;
let integrationId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  h = await startEngineHarness();
  const applied = await h.applyIntegration({
    key: 'outage-hooks',
    organizationId: 'org_1',
    provider: 'WEBHOOK',
    name: 'Webhooks through a Postgres outage',
    credentials: { signingSecret: secret },
    settings: { url: receiver.url, allowPrivateNetwork: true, timeoutMs: 2000 },
    events: ['CRM_CONTACT_CREATED'],
    // Slow enough that the outage lands while most of the burst is still to come.
    rateLimit: { max: 50, perMs: 1000 },
    retry: { attempts: 6, backoffMs: 100 },
  });
  integrationId = applied.integration.id;
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

/**
 * A Postgres restart under load: crm-sync's statements on `table` are made to wait on a lock (so
 * one is surely in flight), then every connection crm-sync holds is ended, as a restart or a
 * failover ends them, and the lock goes. `duringLock` may publish events meanwhile. Returns how
 * many of the ended connections were mid-statement.
 */
async function restartUnderLoad(
  table: 'sync_links' | 'processed_events',
  duringLock: () => Promise<void> = async () => {},
): Promise<number> {
  const locker = new pg.Client(h.testDb.url);
  const admin = new pg.Client(adminUrl(h.testDb.url));
  await Promise.all([locker.connect(), admin.connect()]);
  try {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE crm_sync.${table} IN ACCESS EXCLUSIVE MODE`);
    await duringLock();
    const waiting = `SELECT pid FROM pg_stat_activity
      WHERE datname = $1 AND application_name = 'crm-sync' AND wait_event_type = 'Lock' AND query ILIKE $2`;
    await waitFor(
      `a crm-sync statement on ${table} waiting on the lock`,
      async () => (await admin.query(waiting, [h.testDb.name, `%${table}%`])).rowCount,
      15_000,
    );
    const { rows } = await admin.query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting, pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND application_name = 'crm-sync'`,
      [h.testDb.name],
    );
    return rows.filter((r) => r.waiting).length;
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    await Promise.all([locker.end(), admin.end()]);
  }
}

async function linkedCount(): Promise<number> {
  const { rows } = await h.ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM crm_sync.sync_links
      WHERE integration_id = $1 AND sync_hash IS NOT NULL AND last_error IS NULL`,
    [integrationId],
  );
  return rows[0]!.n;
}

describe('a Postgres outage in the middle of a burst', () => {
  it('delivers and links every record once the connections come back, and dead-letters nothing', async () => {
    const events = Array.from({ length: CONTACTS }, (_, i) =>
      contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 5_000 + i, id: `evt_outage_${i}` }),
    );
    const first = events.slice(0, CONTACTS - LATE);
    const late = events.slice(-LATE);
    const publishAll = (wave: typeof events) => async () => {
      for (const event of wave) await h.publish(event);
    };
    await publishAll(first)();

    // Cut off while syncing (a link statement in flight), then while routing (claims in flight).
    await waitFor('the burst to be under way', () => receiver.deliveries.length >= 30, 30_000);
    expect(await restartUnderLoad('sync_links')).toBeGreaterThan(0);
    await waitFor('deliveries after the first outage', () => receiver.deliveries.length >= 60, 30_000);
    expect(await restartUnderLoad('processed_events', publishAll(late))).toBeGreaterThan(0);

    await waitFor('every contact linked', async () => (await linkedCount()) === CONTACTS, 30_000, 100);

    // Every event reached the receiver; a record whose link write was cut off after its POST is
    // sent again with the same webhook-id, which the receiver deduplicates on.
    const delivered = new Set(receiver.deliveries.map((d) => d.webhookId));
    expect(events.filter((e) => !delivered.has(e.id))).toEqual([]);
    const { rows: failures } = await h.ctx.db.query(
      `SELECT failure_key, error_code, error_message FROM crm_sync.sync_failures`,
    );
    expect(failures).toEqual([]);
    const { rows: log } = await h.ctx.db.query<{ n: number }>(
      `SELECT count(DISTINCT entity_id)::int AS n FROM crm_sync.sync_log
        WHERE integration_id = $1 AND result = 'success'`,
      [integrationId],
    );
    expect(log[0]!.n).toBe(CONTACTS);
  }, 90_000);
});
