import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis7Connection } from '../../src/engine/rate-limit/redis7-connection.js';
import { createRateLimiters, RateLimitTimeoutError } from '../../src/engine/rate-limiter.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait-for.js';

// These tests flush, stop and restart Redis: they get a redis-server of their own.
let server: PrivateRedis;
let admin: Redis;

beforeAll(async () => {
  server = await startPrivateRedis();
  admin = new Redis(server.url, { maxRetriesPerRequest: null });
  // Expected while the server is stopped; the tests assert on outcomes instead.
  admin.on('error', () => undefined);
});

afterAll(async () => {
  admin.disconnect();
  await server.destroy();
});

/** Bottleneck's per-process client id, to check the process was registered again. */
type PrivateStore = { _store: { clientId: string } };

/** Schedules `count` requests and records when each started. */
function runMany(
  limiter: { schedule<T>(fn: () => Promise<T>, opts?: { timeoutMs?: number }): Promise<T> },
  count: number,
  timeoutMs: number,
) {
  const starts: number[] = [];
  const all = Promise.allSettled(
    Array.from({ length: count }, () => limiter.schedule(async () => starts.push(Date.now()), { timeoutMs })),
  );
  return { starts, all };
}

describe('rate limiter recovery (private Redis)', () => {
  it('shows the Bottleneck defect the patch exists for: unpatched, a lost state fails every job on Redis 7', async () => {
    // If this ever fails, Bottleneck (or Redis) fixed the prefix handling and the patch can go.
    const connection = new Bottleneck.IORedisConnection({ client: new Redis(server.url) });
    const raw = new Bottleneck({ id: 'unpatched', datastore: 'ioredis', connection });
    try {
      await raw.schedule(async () => 'ok');
      await admin.flushall();
      await expect(raw.schedule(async () => 'ok')).rejects.toThrow('ERR SETTINGS_KEY_NOT_FOUND');
    } finally {
      await raw.disconnect();
      await connection.disconnect();
    }
  });

  it('with the patched connection, Bottleneck itself re-creates its state and client after FLUSHALL', async () => {
    const connection = new Redis7Connection(new Redis(server.url));
    const patched = new Bottleneck({ id: 'patched', datastore: 'ioredis', connection, maxConcurrent: 2 });
    try {
      await patched.schedule(async () => 'ok');
      await admin.flushall();
      await expect(patched.schedule(async () => 'again')).resolves.toBe('again');
      expect(await admin.exists('b_patched_settings')).toBe(1);
      expect(
        await admin.zscore(
          'b_patched_client_last_seen',
          (patched as unknown as PrivateStore)._store.clientId,
        ),
      ).not.toBeNull();
    } finally {
      await patched.disconnect();
      await connection.disconnect();
    }
  });

  it('keeps running requests after FLUSHALL wipes its state mid-run', async () => {
    const limiters = createRateLimiters({ redisUrl: server.url, prefix: 'flush' });
    try {
      const limiter = limiters.forAccount('HUBSPOT:flushed', { max: 5, perMs: 500 });
      const run = runMany(limiter, 15, 15_000);
      await waitFor('a few requests to start', () => run.starts.length >= 3);
      await admin.flushall();
      const outcomes = await run.all;

      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      expect(run.starts).toHaveLength(15);
      // The state is back in Redis, and new requests go through it.
      expect(await admin.exists('b_flush:ratelimit:HUBSPOT:flushed_settings')).toBe(1);
      await expect(limiter.schedule(async () => 'after', { timeoutMs: 5000 })).resolves.toBe('after');
    } finally {
      await limiters.close();
    }
  });

  it('resumes by itself when Redis restarts without its data', async () => {
    const limiters = createRateLimiters({ redisUrl: server.url, prefix: 'restart' });
    try {
      const limiter = limiters.forAccount('MAILCHIMP:restarted', { max: 10, perMs: 500, maxConcurrent: 3 });
      const run = runMany(limiter, 20, 20_000);
      await waitFor('a few requests to start', () => run.starts.length >= 3);
      await server.stop();
      const stoppedAt = Date.now();
      await server.start();
      const outcomes = await run.all;

      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      expect(run.starts).toHaveLength(20);
      expect(run.starts.filter((t) => t > stoppedAt).length).toBeGreaterThan(0);
      expect(await admin.exists('b_restart:ratelimit:MAILCHIMP:restarted_settings')).toBe(1);
    } finally {
      await limiters.close();
    }
  });

  it('never hangs while Redis is down: requests reject after their timeout, and work again once it is back', async () => {
    const limiters = createRateLimiters({ redisUrl: server.url, prefix: 'down' });
    try {
      const known = limiters.forAccount('SLACK:known', { max: 10, perMs: 1000 });
      await known.schedule(async () => undefined);
      await server.stop();

      // An account in use before the outage, and one first seen during it.
      const fresh = limiters.forAccount('SLACK:fresh', { max: 10, perMs: 1000 });
      for (const limiter of [known, fresh]) {
        let ran = false;
        const started = Date.now();
        const error = await limiter
          .schedule(async () => (ran = true), { timeoutMs: 700 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RateLimitTimeoutError);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(ran).toBe(false);
      }

      await server.start();
      await expect(known.schedule(async () => 'known', { timeoutMs: 15_000 })).resolves.toBe('known');
      await expect(fresh.schedule(async () => 'fresh', { timeoutMs: 15_000 })).resolves.toBe('fresh');
    } finally {
      await limiters.close();
    }
  });
});
