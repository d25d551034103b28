import type { Redis } from 'ioredis';

/**
 * The last check before a request starts, and the account's shared Retry-After pause.
 *
 * Input:  KEYS[1] the account's start log (sorted set: start id → Redis time in ms)
 *         KEYS[2] the account's pause key (its TTL is the pause)
 *         ARGV[1] most starts per window; ARGV[2] window in ms; ARGV[3] a unique start id
 * Output: {1, 0}          the start is admitted and logged
 *         {0, ms, reason} not now: 'paused' or 'window_full'; ask again in ms
 */
const TRY_START_LUA = `
local paused = redis.call('pttl', KEYS[2])
if paused > 0 then return {0, paused, 'paused'} end
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zcard', KEYS[1]) >= max then
  local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(oldest[2]) + window - now), 'window_full'}
end
redis.call('zadd', KEYS[1], now, ARGV[3])
redis.call('pexpire', KEYS[1], window)
return {1, 0}`;

/**
 * Moves an admitted start to Redis's current time (the start was admitted, but its answer came
 * back late: see AccountGate.tryStart).
 *
 * Input:  KEYS[1] the account's start log; ARGV[1] the start id; ARGV[2] window in ms
 * Output: the new time, ms
 */
const RESTAMP_LUA = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[1], now, ARGV[1])
redis.call('pexpire', KEYS[1], ARGV[2])
return now`;

/** A late answer is re-stamped at most this often before the request starts anyway. */
const MAX_RESTAMPS = 3;

/**
 * Extends the pause, never shortens it: two 429s with different Retry-After values leave the
 * longer pause in force.
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

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

export type GateAnswer =
  | { start: true }
  | { start: false; retryInMs: number; reason: 'paused' | 'window_full' };

/**
 * Bottleneck paces requests by each process's clock and hands out slots ahead of time; a request
 * may then start late (a busy event loop) and land in the same window as a later one. This gate
 * decides at the moment of the start, atomically and by Redis's clock: at most `max` starts in
 * any `windowMs`, and none while the account is paused. Bottleneck's pacing keeps it from
 * refusing in normal operation; it is the guarantee, not the scheduler.
 *
 * The pause is a key whose TTL is the Retry-After: counted by Redis's clock (hosts with skewed
 * clocks agree on its end) and gone by itself (no process has to live to lift it).
 */
export class AccountGate {
  private readonly tryStartScript: ScriptCall;
  private readonly extendPauseScript: ScriptCall;
  private readonly restampScript: ScriptCall;

  constructor(
    private readonly redis: Redis,
    private readonly keys: { startLog: string; pause: string },
  ) {
    const commands = redis as unknown as Record<string, ScriptCall | undefined>;
    // defineCommand sends EVALSHA and falls back to EVAL when Redis lost its script cache.
    if (!commands.crmSyncTryStart) {
      redis.defineCommand('crmSyncTryStart', { numberOfKeys: 2, lua: TRY_START_LUA });
      redis.defineCommand('crmSyncExtendPause', { numberOfKeys: 1, lua: EXTEND_PAUSE_LUA });
      redis.defineCommand('crmSyncRestamp', { numberOfKeys: 1, lua: RESTAMP_LUA });
    }
    this.tryStartScript = commands.crmSyncTryStart!.bind(redis);
    this.extendPauseScript = commands.crmSyncExtendPause!.bind(redis);
    this.restampScript = commands.crmSyncRestamp!.bind(redis);
  }

  /**
   * Admits a start or says why not. The start is logged at the moment the script runs, but the
   * request leaves only once this process has read the answer: an event loop busy with a wide
   * wave of events (or a Redis queue) can put tens of milliseconds in between, and a request
   * that leaves that late can share a provider's window with one admitted a full window after
   * it (measured: 62 ms round trips at 500 events a wave, against Mailchimp's 50 ms of slack).
   * So an answer that took longer than `lateAfterMs` moves its start to Redis's time now,
   * which only ever makes later checks stricter; a few tries, then the request goes anyway.
   */
  async tryStart(
    max: number,
    windowMs: number,
    startId: string,
    lateAfterMs = Number.POSITIVE_INFINITY,
  ): Promise<GateAnswer> {
    let sent = performance.now();
    const answer = (await this.tryStartScript(
      this.keys.startLog,
      this.keys.pause,
      max,
      Math.ceil(windowMs),
      startId,
    )) as [number, number, string?];
    if (answer[0] === 1) {
      for (let tries = 0; performance.now() - sent > lateAfterMs && tries < MAX_RESTAMPS; tries++) {
        sent = performance.now();
        await this.restampScript(this.keys.startLog, startId, Math.ceil(windowMs));
      }
      return { start: true };
    }
    return {
      start: false,
      retryInMs: Number(answer[1]),
      reason: answer[2] === 'paused' ? 'paused' : 'window_full',
    };
  }

  /** Pauses for at least `ms` from now; returns the pause's remaining ms. */
  async extendPause(ms: number): Promise<number> {
    return Number(await this.extendPauseScript(this.keys.pause, Math.ceil(ms)));
  }

  /** Milliseconds until the pause ends; 0 when none is in force. */
  async pauseRemainingMs(): Promise<number> {
    return Math.max(await this.redis.pttl(this.keys.pause), 0);
  }
}
