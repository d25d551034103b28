import type { Redis } from 'ioredis';
import type { CrmEvent } from '../events/envelope.js';
import type { EntityRef } from './entity-ref.js';
import type { RecordOrder } from './record-order.js';

/**
 * The newest pending state change of each record, per integration. BullMQ's deduplication
 * coalesces a record's pending jobs into one, but an event arriving while that job waits in a
 * backlog is dropped by it; this store keeps that event, and the job syncs whatever is newest
 * here when it runs. So coalescing never loses the last state.
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

export class LatestSnapshotStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(integrationId: string, ref: EntityRef): string {
    return `${this.prefix}:latest:${integrationId}:${ref.entityType}:${ref.entityId}`;
  }

  async offer(integrationId: string, ref: EntityRef, event: CrmEvent, order: RecordOrder): Promise<boolean> {
    const stored = await this.redis.eval(
      SET_IF_NEWER,
      1,
      this.key(integrationId, ref),
      order.version === null ? '' : String(order.version),
      String(order.updatedAt ?? 0),
      event.id,
      JSON.stringify(event),
      String(TTL_MS),
    );
    return stored === 1;
  }

  async get(integrationId: string, ref: EntityRef): Promise<CrmEvent | null> {
    const raw = await this.redis.hget(this.key(integrationId, ref), 'e');
    // Stored by `offer` from an event the consumer validated: not parsed with zod again.
    return raw === null ? null : (JSON.parse(raw) as CrmEvent);
  }

  async clear(integrationId: string, ref: EntityRef, syncedEventId: string): Promise<void> {
    await this.redis.eval(DELETE_IF_SAME, 1, this.key(integrationId, ref), syncedEventId);
  }
}
