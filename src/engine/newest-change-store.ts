import type { Redis } from 'ioredis';
import type { CrmEvent } from '../events/envelope.js';
import type { EntityRef } from './entity-ref.js';
import { MicroBatcher } from './micro-batcher.js';
import type { RecordOrder } from './record-order.js';

/**
 * Which change of each record is the newest routed, per integration: what makes coalescing
 * work. Every state change gets a place in a sync job; when a job reaches a record whose newest
 * change is a later one, it skips it (`superseded`): the later change's own job pushes the
 * newest state. So a record changed 20 times while its jobs wait is pushed once or twice, never
 * with an older state after a newer one, and the last state is never lost (it always has a job).
 *
 * Only the change's id and order are stored (no snapshot): a few dozen bytes per record, written
 * once per event and read once per sync. Entries expire after ENTRY_TTL_MS instead of being
 * deleted after each sync (one Redis command less per record); a job older than that syncs its
 * change, and the link's order check still keeps an older state from overwriting a newer one.
 *
 * Every call is micro-batched into one Redis pipeline: the store is on the path of every
 * event, and one round trip per event each way would cost more than the sync itself.
 */
const SET_IF_NEWER = `
-- KEYS[1] record key; ARGV: version ('' = none), updatedAt ms, event id, ttl ms
-- Returns 1 when stored, 0 when the stored change is newer.
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
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'u', ARGV[2], 'id', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/** Longer than a sync job normally waits (coalescing, rate-limit backlog, a short pause). */
const ENTRY_TTL_MS = 6 * 3600_000;
const BATCH = { maxSize: 500, windowMs: 1 };

type Offer = { key: string; eventId: string; order: RecordOrder };

/** A record's newest routed change. */
export interface NewestChange {
  eventId: string;
  order: RecordOrder;
}

export class NewestChangeStore {
  private readonly offers: MicroBatcher<Offer, boolean>;
  private readonly reads: MicroBatcher<string, NewestChange | null>;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('crmSyncOfferNewest', { numberOfKeys: 1, lua: SET_IF_NEWER });
    type Scripted = { crmSyncOfferNewest(...args: string[]): void };
    this.offers = new MicroBatcher({
      name: 'newest-change offers',
      ...BATCH,
      flush: async (items) => {
        const pipeline = redis.pipeline();
        for (const { key, eventId, order } of items) {
          (pipeline as unknown as Scripted).crmSyncOfferNewest(
            key,
            order.version === null ? '' : String(order.version),
            String(order.updatedAt ?? 0),
            eventId,
            String(ENTRY_TTL_MS),
          );
        }
        return (await pipeline.exec())!.map(([error, stored]) => {
          if (error) throw error;
          return stored === 1;
        });
      },
    });
    this.reads = new MicroBatcher({
      name: 'newest-change reads',
      ...BATCH,
      flush: async (keys) => {
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.hmget(key, 'id', 'v', 'u');
        return (await pipeline.exec())!.map(([error, fields]) => {
          if (error) throw error;
          const [id, v, u] = fields as (string | null)[];
          if (typeof id !== 'string') return null;
          return { eventId: id, order: { version: v ? Number(v) : null, updatedAt: u ? Number(u) : null } };
        });
      },
    });
  }

  private key(integrationId: string, ref: EntityRef): string {
    return `${this.prefix}:newest:${integrationId}:${ref.entityType}:${ref.entityId}`;
  }

  /** Records `event` as the record's newest change unless a newer one is known; true if it is. */
  offer(integrationId: string, ref: EntityRef, event: CrmEvent, order: RecordOrder): Promise<boolean> {
    return this.offers.add({ key: this.key(integrationId, ref), eventId: event.id, order });
  }

  /** The record's newest routed change, or null when none is known (or it expired). */
  newest(integrationId: string, ref: EntityRef): Promise<NewestChange | null> {
    return this.reads.add(this.key(integrationId, ref));
  }

  async close(): Promise<void> {
    await Promise.all([this.offers.close(), this.reads.close()]);
  }
}
