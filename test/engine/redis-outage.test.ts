import { afterAll, beforeAll, describe, it } from 'vitest';
import { type BurstRig, startBurstRig } from '../helpers/burst-rig.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Redis crashing in the middle of a burst and coming back with its data (a production Redis with
 * an append-only file): every connection of the engine drops at once, replies in flight are lost,
 * BullMQ and the rate limiter reconnect. Nothing may be lost or dead-lettered for it. (A Redis
 * that comes back empty loses the queues themselves: production Redis needs `appendonly yes`.)
 */
const CONTACTS = 200;
/** Published while Redis is down: they wait in the publisher's connection until it is back. */
const LATE = 20;

let redis: PrivateRedis;
let rig: BurstRig;

beforeAll(async () => {
  redis = await startPrivateRedis({ persistent: true });
  rig = await startBurstRig('redis-outage-hooks', { REDIS_URL: redis.url });
});

afterAll(async () => {
  await rig?.close();
  await redis?.destroy();
});

describe('a Redis crash in the middle of a burst', () => {
  it('delivers and links every record once Redis is back with its data, and dead-letters nothing', async () => {
    const { h, receiver } = rig;
    const events = rig.creates(CONTACTS + LATE, 'redis_outage', 7_000);
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
      async () => (await rig.linkedCount()) === CONTACTS + LATE,
      100_000,
      100,
    );

    await rig.expectAllDeliveredNothingDeadLettered(events);
  }, 150_000);
});
