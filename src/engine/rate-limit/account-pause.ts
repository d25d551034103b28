import type { Redis } from 'ioredis';

/**
 * Extends an account's pause, never shortens it: two 429s answered with different Retry-After
 * values leave the longer pause in force.
 *
 * Input:  KEYS[1] the account's pause key; ARGV[1] pause length in ms
 * Output: the pause's remaining ms after the call
 */
const EXTEND_PAUSE_LUA = `
local wanted = tonumber(ARGV[1])
local remaining = redis.call('pttl', KEYS[1])
if remaining < wanted then
  redis.call('set', KEYS[1], ARGV[1], 'px', wanted)
  return wanted
end
return remaining`;

/**
 * A 429's Retry-After, shared by every worker process: one key whose TTL is the pause. The TTL is
 * counted by Redis's clock, so hosts with skewed clocks still agree on when the pause ends, and
 * the key vanishes on its own: no process has to live long enough to lift the pause.
 */
export class AccountPause {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
  ) {}

  /** Pauses for at least `ms` from now; returns the pause's remaining ms. */
  async extend(ms: number): Promise<number> {
    const remaining = await this.redis.eval(EXTEND_PAUSE_LUA, 1, this.key, String(Math.ceil(ms)));
    return Number(remaining);
  }

  /** Milliseconds until the pause ends; 0 when none is in force. */
  async remainingMs(): Promise<number> {
    const ttl = await this.redis.pttl(this.key);
    return Math.max(ttl, 0);
  }
}
