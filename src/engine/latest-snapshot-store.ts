import type { Redis } from 'ioredis';
import type { CrmEvent } from '../events/envelope.js';
import type { EntityRef } from './entity-ref.js';
import { MicroBatcher } from './micro-batcher.js';
import type { RecordOrder } from './record-order.js';

/**
 * The newest pending state change of each record, per integration. BullMQ's deduplication
 * coalesces a record's pending jobs into one, but an event arriving while that job waits in a
 * backlog is dropped by it; this store keeps that event, and the job syncs whatever is newest
 * here when it runs. So coalescing never loses the last state.
 *
 * Every call is micro-batched into one Redis pipeline: the store is on the path of every
 * event, and one round trip per event each way would cost more than the sync itself.
 */
const SET_IF_NEWER = `
-- KEYS[1] record key; ARGV: version ('' = none), updatedAt ms, event id, event json, ttl ms
-- Returns 1 when stored, 0 when the stored event is newer.
local current = redis.call('HMGET', KEYS[1], 'v', 'u')
if current[2] then
  local newer
  if ARGV[1] ~= '' and current[1] ~= '' and tonumber(ARGV[1]) ~= tonumber(current[1]) then
    newer = tonumber(ARGV[1]) > tonumber(current[1])
  else
    newer = tonumber(ARGV[2]) >= tonumber(current[2])
  end
  if not newer then return 0 end
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'u', ARGV[2], 'id', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

const DELETE_IF_SAME = `
-- KEYS[1] record key; ARGV[1] event id synced. Deletes only if no newer event arrived meanwhile.
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const TTL_MS = 7 * 24 * 3600_000;
const BATCH = { maxSize: 500, windowMs: 1 };

type Offer = { key: string; event: CrmEvent; order: RecordOrder };

export class LatestSnapshotStore {
  private readonly offers: MicroBatcher<Offer, boolean>;
  private readonly reads: MicroBatcher<string, CrmEvent | null>;
  private readonly clears: MicroBatcher<{ key: string; eventId: string }, undefined>;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('crmSyncSetIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
    redis.defineCommand('crmSyncDeleteIfSame', { numberOfKeys: 1, lua: DELETE_IF_SAME });
    type Scripted = {
      crmSyncSetIfNewer(...args: string[]): void;
      crmSyncDeleteIfSame(...args: string[]): void;
    };
    this.offers = new MicroBatcher({
      name: 'latest-snapshot offers',
      ...BATCH,
      flush: async (items) => {
        const pipeline = redis.pipeline();
        for (const { key, event, order } of items) {
          (pipeline as unknown as Scripted).crmSyncSetIfNewer(
            key,
            order.version === null ? '' : String(order.version),
            String(order.updatedAt ?? 0),
            event.id,
            JSON.stringify(event),
            String(TTL_MS),
          );
        }
        return (await pipeline.exec())!.map(([error, stored]) => {
          if (error) throw error;
          return stored === 1;
        });
      },
    });
    this.reads = new MicroBatcher({
      name: 'latest-snapshot reads',
      ...BATCH,
      flush: async (keys) => {
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.hget(key, 'e');
        // Stored by `offer` from an event the consumer validated: not parsed with zod again.
        return (await pipeline.exec())!.map(([error, raw]) => {
          if (error) throw error;
          return typeof raw === 'string' ? (JSON.parse(raw) as CrmEvent) : null;
        });
      },
    });
    this.clears = new MicroBatcher({
      name: 'latest-snapshot clears',
      ...BATCH,
      flush: async (items) => {
        const pipeline = redis.pipeline();
        for (const { key, eventId } of items)
          (pipeline as unknown as Scripted).crmSyncDeleteIfSame(key, eventId);
        await pipeline.exec();
        return items.map(() => undefined);
      },
    });
  }

  private key(integrationId: string, ref: EntityRef): string {
    return `${this.prefix}:latest:${integrationId}:${ref.entityType}:${ref.entityId}`;
  }

  offer(integrationId: string, ref: EntityRef, event: CrmEvent, order: RecordOrder): Promise<boolean> {
    return this.offers.add({ key: this.key(integrationId, ref), event, order });
  }

  get(integrationId: string, ref: EntityRef): Promise<CrmEvent | null> {
    return this.reads.add(this.key(integrationId, ref));
  }

  clear(integrationId: string, ref: EntityRef, syncedEventId: string): Promise<undefined> {
    return this.clears.add({ key: this.key(integrationId, ref), eventId: syncedEventId });
  }

  async close(): Promise<void> {
    await Promise.all([this.offers.close(), this.reads.close(), this.clears.close()]);
  }
}
