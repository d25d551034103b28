import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { EntityRef } from './entity-ref.js';

/**
 * Takes what it can: each record key not held by another push is set to the owner with the
 * lease's TTL; the others are reported with the time their lease has left.
 *
 * Input:  KEYS the records' lease keys; ARGV[1] owner; ARGV[2] lease ms
 * Output: flat {position, ms left, …} for the keys another owner holds (1-based positions)
 */
const TAKE_LUA = `
local busy = {}
for i, key in ipairs(KEYS) do
  if not redis.call('set', key, ARGV[1], 'nx', 'px', ARGV[2]) then
    busy[#busy + 1] = i
    busy[#busy + 1] = redis.call('pttl', key)
  end
end
return busy`;

/**
 * Input:  KEYS lease keys; ARGV[1] owner; ARGV[2] lease ms ('' to release)
 * Output: how many keys still belonged to the owner
 */
const RENEW_OR_RELEASE_LUA = `
local mine = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    mine = mine + 1
    if ARGV[2] == '' then redis.call('del', key) else redis.call('pexpire', key, ARGV[2]) end
  end
end
return mine`;

type Scripted = {
  crmSyncTakeLeases(numberOfKeys: number, ...args: string[]): Promise<number[]>;
  crmSyncRenewLeases(numberOfKeys: number, ...args: string[]): Promise<number>;
};

/** What `take` got: the records it holds until `release()`, and the ones another push holds. */
export interface LeaseGrant {
  /** Positions (in the keys given) of the records another push holds, with the ms their lease has left. */
  busy: { position: number; retryInMs: number }[];
  /** Lets the held records go (and stops renewing them). Never throws. */
  release(): Promise<void>;
}

export interface RecordLeasesOptions {
  /** How long a lease lives unless renewed: what a process that died mid-push costs its records. */
  leaseMs?: number;
  /** How long a push waits for records another process is pushing before it retries them later. */
  maxWaitMs?: number;
}

const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_MAX_WAIT_MS = 60_000;

/**
 * Per-record leases in Redis, shared by every worker process: a record is pushed by one process
 * at a time. A push starts from the record's link (its provider id, the state its connector
 * keeps, such as the tags the CRM owns at Mailchimp) and ends by writing it; two processes
 * pushing one record at once (a contact's update batched in one, its tag event in another)
 * would each start from the same link, and the later write would drop what the earlier one
 * recorded. The link's order check cannot see that: it guards which change is newer, not the
 * connector's own state.
 *
 * A lease is renewed while its push runs (every third of its life), so a long push (a batch
 * run Mailchimp takes minutes over) keeps it, and a process that dies frees its records after
 * `leaseMs`. Keys are `<prefix>:lease:<integration>:<type>:<id>`: with a hash tag in the
 * prefix, as BullMQ's keys need on Redis Cluster, one script call takes a whole batch.
 */
export class RecordLeases {
  private readonly scripted: Scripted;
  private readonly leaseMs: number;
  readonly maxWaitMs: number;
  private warned = false;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    options: RecordLeasesOptions = {},
  ) {
    redis.defineCommand('crmSyncTakeLeases', { lua: TAKE_LUA });
    redis.defineCommand('crmSyncRenewLeases', { lua: RENEW_OR_RELEASE_LUA });
    this.scripted = redis as unknown as Scripted;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  }

  key(integrationId: string, ref: EntityRef): string {
    return `${this.prefix}:lease:${integrationId}:${ref.entityType}:${ref.entityId}`;
  }

  /**
   * Takes the records no other push holds (`refs` distinct). If Redis cannot
   * answer, every record counts as taken: a push without leases is what ran before they existed
   * (one process is still serialised by the caller), and stopping every sync for it would not be.
   */
  async take(integrationId: string, refs: readonly EntityRef[]): Promise<LeaseGrant> {
    if (refs.length === 0) return { busy: [], release: async () => undefined };
    const owner = randomUUID();
    const keys = refs.map((ref) => this.key(integrationId, ref));
    let flat: number[];
    try {
      flat = await this.scripted.crmSyncTakeLeases(keys.length, ...keys, owner, String(this.leaseMs));
    } catch (error) {
      this.warnOnce(error);
      return { busy: [], release: async () => undefined };
    }
    this.warned = false;
    const busy: LeaseGrant['busy'] = [];
    const busyPositions = new Set<number>();
    for (let i = 0; i < flat.length; i += 2) {
      const position = Number(flat[i]) - 1;
      busyPositions.add(position);
      // -1: the key expired between SET and PTTL; try again at once.
      busy.push({ position, retryInMs: Math.max(0, Number(flat[i + 1])) });
    }
    const held = keys.filter((_, i) => !busyPositions.has(i));
    if (held.length === 0) return { busy, release: async () => undefined };

    const renew = setInterval(
      () => {
        this.scripted
          .crmSyncRenewLeases(held.length, ...held, owner, String(this.leaseMs))
          .catch((error: unknown) => this.warnOnce(error));
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    let released: Promise<void> | undefined;
    return {
      busy,
      release: () => {
        released ??= (async () => {
          clearInterval(renew);
          // A release that does not reach Redis frees the records when the lease runs out.
          await this.scripted.crmSyncRenewLeases(held.length, ...held, owner, '').then(
            () => undefined,
            (error: unknown) => this.warnOnce(error),
          );
        })();
        return released;
      },
    };
  }

  private warnOnce(error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'record leases unavailable (Redis); pushing without them until it answers',
    );
  }
}
