import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadEnv } from '../../src/config/env.js';

/** A queue/key prefix no other test file uses, so files can share one Redis server. */
export function testPrefix(label = 'test'): string {
  return `crm-sync-${label}-${randomUUID().slice(0, 8)}`;
}

export function testRedisUrl(): string {
  return loadEnv().REDIS_URL;
}

/** A connection as BullMQ wants it (blocking commands must not give up). */
export function createTestRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
}

/** Deletes every key under `prefix` (SCAN, not KEYS, so a shared server is not blocked). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
