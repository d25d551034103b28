import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityRef } from '../../src/engine/entity-ref.js';
import { NewestChangeStore } from '../../src/engine/newest-change-store.js';
import type { RecordOrder } from '../../src/engine/record-order.js';
import type { CrmEvent } from '../../src/events/envelope.js';
import { createTestRedis, deletePrefix, testPrefix } from '../helpers/test-redis.js';

const prefix = testPrefix('newest');
let redis: Redis;
let store: NewestChangeStore;

beforeAll(() => {
  redis = createTestRedis();
  store = new NewestChangeStore(redis, prefix);
});

afterAll(async () => {
  await store.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const contact = (id: number): EntityRef => ({ entityType: 'contact', entityId: String(id) });
// The store reads only the event's id.
const event = (id: string) => ({ id }) as CrmEvent;
const at = (version: number | null, updatedAt: number | null): RecordOrder => ({ version, updatedAt });

describe('NewestChangeStore (real Redis)', () => {
  it('keeps the newest change by version, and by updatedAt when versions are missing or equal', async () => {
    expect(await store.newest('int-a', contact(1))).toBeNull();
    expect(await store.offer('int-a', contact(1), event('e2'), at(2, 1_000))).toBe(true);
    // An older version loses even with a later timestamp.
    expect(await store.offer('int-a', contact(1), event('e1'), at(1, 9_000))).toBe(false);
    expect(await store.offer('int-a', contact(1), event('e3'), at(3, 500))).toBe(true);
    expect(await store.newest('int-a', contact(1))).toEqual({
      eventId: 'e3',
      order: { version: 3, updatedAt: 500 },
    });

    expect(await store.offer('int-a', contact(2), event('t2'), at(null, 2_000))).toBe(true);
    expect(await store.offer('int-a', contact(2), event('t1'), at(null, 1_000))).toBe(false);
    // Same time: the later-routed change wins, so a redelivery of the newest keeps it.
    expect(await store.offer('int-a', contact(2), event('t2b'), at(null, 2_000))).toBe(true);
    expect(await store.newest('int-a', contact(2))).toEqual({
      eventId: 't2b',
      order: { version: null, updatedAt: 2_000 },
    });
  });

  it('answers each of many offers made at once in order, the same record twice included', async () => {
    const offers = [
      store.offer('int-b', contact(1), event('a1'), at(1, 1)),
      store.offer('int-b', contact(2), event('b5'), at(5, 1)),
      store.offer('int-b', contact(1), event('a2'), at(2, 1)),
      store.offer('int-b', contact(2), event('b4'), at(4, 1)),
      store.offer('int-c', contact(1), event('c1'), at(1, 1)),
    ];
    expect(await Promise.all(offers)).toEqual([true, true, true, false, true]);
    const reads = await Promise.all([
      store.newest('int-b', contact(1)),
      store.newest('int-b', contact(2)),
      store.newest('int-c', contact(1)),
      store.newest('int-c', contact(2)),
    ]);
    expect(reads.map((r) => r?.eventId ?? null)).toEqual(['a2', 'b5', 'c1', null]);
  });

  it('gives every entry a time to live', async () => {
    await store.offer('int-d', contact(7), event('d1'), at(1, 1));
    const ttl = await redis.pttl(`${prefix}:newest:int-d:contact:7`);
    expect(ttl).toBeGreaterThan(3_600_000);
  });
});
