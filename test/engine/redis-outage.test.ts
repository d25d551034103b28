import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Redis crashing in the middle of a burst and coming back with its data (a production Redis with
 * an append-only file): every connection of the engine drops at once, replies in flight are lost,
 * BullMQ and the rate limiter reconnect. Nothing may be lost or dead-lettered for it. (A Redis
 * that comes back empty loses the queues themselves: that is what persistence, or the outbox
 * relay on the CRM's side, is for.)
 */
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const CONTACTS = 200;
/** Published while Redis is down: they wait in the publisher's connection until it is back. */
const LATE = 20;

let redis: PrivateRedis;
let h: EngineHarness;
let receiver: WebhookReceiver;
let integrationId: string;

beforeAll(async () => {
  redis = await startPrivateRedis({ persistent: true });
  receiver = await startWebhookReceiver({ secret });
  h = await startEngineHarness({}, { REDIS_URL: redis.url });
  const applied = await h.applyIntegration({
    key: 'redis-outage-hooks',
    organizationId: 'org_1',
    provider: 'WEBHOOK',
    name: 'Webhooks through a Redis crash',
    credentials: { signingSecret: secret },
    settings: { url: receiver.url, allowPrivateNetwork: true, timeoutMs: 2000 },
    events: ['CRM_CONTACT_CREATED'],
    // Slow enough that the crash lands while most of the burst is still to come.
    rateLimit: { max: 50, perMs: 1000 },
    retry: { attempts: 6, backoffMs: 100 },
  });
  integrationId = applied.integration.id;
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
  await redis?.destroy();
});

async function linkedCount(): Promise<number> {
  const { rows } = await h.ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM crm_sync.sync_links
      WHERE integration_id = $1 AND sync_hash IS NOT NULL AND last_error IS NULL`,
    [integrationId],
  );
  return rows[0]!.n;
}

describe('a Redis crash in the middle of a burst', () => {
  it('delivers and links every record once Redis is back with its data, and dead-letters nothing', async () => {
    const events = Array.from({ length: CONTACTS + LATE }, (_, i) =>
      contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 7_000 + i, id: `evt_redis_outage_${i}` }),
    );
    for (const event of events.slice(0, CONTACTS)) await h.publish(event);

    await waitFor('the burst to be under way', () => receiver.deliveries.length >= 30, 30_000);
    await redis.stop(); // SIGKILL: a crash, every connection cut with replies in flight
    const late = Promise.all(events.slice(CONTACTS).map((event) => h.publish(event)));
    await redis.start();
    await late;

    // Usually seconds. A job whose fetch was executed but whose reply died with the connection
    // sits active with a lock nobody holds until the lock expires and BullMQ's stalled check
    // (30 s each) hands it back: up to a minute, which this allows for.
    await waitFor(
      'every contact linked',
      async () => (await linkedCount()) === CONTACTS + LATE,
      100_000,
      100,
    );

    // Every event reached the receiver; one whose POST went out before a lost reply is sent again
    // with the same webhook-id, which the receiver deduplicates on.
    const delivered = new Set(receiver.deliveries.map((d) => d.webhookId));
    expect(events.filter((e) => !delivered.has(e.id))).toEqual([]);
    const { rows: failures } = await h.ctx.db.query(
      `SELECT failure_key, error_code, error_message FROM crm_sync.sync_failures`,
    );
    expect(failures).toEqual([]);
  }, 150_000);
});
