import type { Redis } from 'ioredis';
import type { CrmEvent } from '../events/envelope.js';
import type { EntityRef } from './entity-ref.js';
import { MicroBatcher } from './micro-batcher.js';
import { compareOrder, orderOf, type RecordOrder } from './record-order.js';

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
 * Calls are micro-batched: the offers (or reads) made at the same moment are one script call,
 * whose keys share the queue prefix (a hash tag such as `{crm-sync}` keeps them in one slot on
 * Redis Cluster, as BullMQ's own keys need). The store is on the path of every event, and a
 * command per event each way would cost more than the sync itself.
 */
const OFFER_MANY = `
-- KEYS: record keys. ARGV[1] ttl ms, then per key: version ('' = none), updatedAt ms, event id.
-- Returns per key 1 when stored, 0 when the stored change is newer.
local ttl = ARGV[1]
local stored = {}
for i, key in ipairs(KEYS) do
  local version, updated, id = ARGV[i * 3 - 1], ARGV[i * 3], ARGV[i * 3 + 1]
  local current = redis.call('HMGET', key, 'v', 'u')
  local newer = true
  if current[2] then
    if version ~= '' and current[1] ~= '' and tonumber(version) ~= tonumber(current[1]) then
      newer = tonumber(version) > tonumber(current[1])
    else
      newer = tonumber(updated) >= tonumber(current[2])
    end
  end
  if newer then
    redis.call('HSET', key, 'v', version, 'u', updated, 'id', id)
    redis.call('PEXPIRE', key, ttl)
    stored[i] = 1
  else
    stored[i] = 0
  end
end
return stored`;

const READ_MANY = `
-- KEYS: record keys. Returns per key {id, version, updatedAt} (nils when unknown).
local found = {}
for i, key in ipairs(KEYS) do
  found[i] = redis.call('HMGET', key, 'id', 'v', 'u')
end
return found`;

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
    // One script call per batch, not one command per record: on the path of every event, the
    // per-command cost (client objects, protocol, dispatch) outweighed the work itself.
    redis.defineCommand('crmSyncOfferNewest', { lua: OFFER_MANY });
    redis.defineCommand('crmSyncReadNewest', { lua: READ_MANY });
    type Scripted = {
      crmSyncOfferNewest(numberOfKeys: number, ...args: string[]): Promise<number[]>;
      crmSyncReadNewest(numberOfKeys: number, ...keys: string[]): Promise<(string | null)[][]>;
    };
    const scripted = redis as unknown as Scripted;
    this.offers = new MicroBatcher({
      name: 'newest-change offers',
      ...BATCH,
      flush: async (items) => {
        const args: string[] = items.map((i) => i.key);
        args.push(String(ENTRY_TTL_MS));
        for (const { eventId, order } of items) {
          args.push(
            order.version === null ? '' : String(order.version),
            String(order.updatedAt ?? 0),
            eventId,
          );
        }
        const stored = await scripted.crmSyncOfferNewest(items.length, ...args);
        return stored.map((s) => s === 1);
      },
    });
    this.reads = new MicroBatcher({
      name: 'newest-change reads',
      ...BATCH,
      flush: async (keys) => {
        const found = await scripted.crmSyncReadNewest(keys.length, ...keys);
        return found.map(([id, v, u]) => {
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

  /**
   * Whether a later change of the record than `event` was routed: that change's own job pushes
   * the newer state, so this one need not be pushed.
   */
  async supersedes(integrationId: string, ref: EntityRef, event: CrmEvent): Promise<boolean> {
    const newest = await this.newest(integrationId, ref);
    return newest !== null && newest.eventId !== event.id && compareOrder(newest.order, orderOf(event)) > 0;
  }

  async close(): Promise<void> {
    await Promise.all([this.offers.close(), this.reads.close()]);
  }
}
