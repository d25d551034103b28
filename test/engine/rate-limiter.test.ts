import { afterAll, describe, expect, it } from 'vitest';
import { AccountGate } from '../../src/engine/rate-limit/account-gate.js';
import {
  bottleneckSettings,
  createRateLimiters,
  RateLimitConfigError,
  RateLimiterClosedError,
  RateLimitTimeoutError,
} from '../../src/engine/rate-limiter.js';
import { createTestRedis, deletePrefix, testPrefix, testRedisUrl } from '../helpers/test-redis.js';
import { waitFor } from '../helpers/wait-for.js';

const prefix = testPrefix('ratelimit');
const redis = createTestRedis();
const limiters = createRateLimiters({ redisUrl: testRedisUrl(), prefix });

/** A promise with its resolve handle, to hold a request open until the test lets it finish. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/** Jobs Bottleneck has accepted into its queue for this account, across processes (its own bookkeeping). */
async function queuedJobs(account: string): Promise<number> {
  const counts = await redis.hvals(`b_${prefix}:ratelimit:${account}_client_num_queued`);
  return counts.reduce((sum, n) => sum + Number(n), 0);
}

afterAll(async () => {
  await limiters.close();
  await deletePrefix(redis, prefix);
  await deletePrefix(redis, `b_${prefix}`);
  await redis.quit();
});

describe('bottleneckSettings', () => {
  it('turns "max per perMs" into a spacing that keeps every window at max, and a reservoir with room to spare', () => {
    for (const limit of [
      { max: 80, perMs: 10_000 },
      { max: 8, perMs: 1000, maxConcurrent: 10 },
      { max: 1, perMs: 1000 },
      { max: 1000, perMs: 1000 },
    ]) {
      const s = bottleneckSettings(limit);
      // Slots are handed out ahead of their start: a reservoir of max would run dry early.
      expect(s.reservoir).toBe(limit.max * 2);
      expect(s.reservoirRefreshAmount).toBe(limit.max * 2);
      expect(s.reservoirRefreshInterval).toBe(limit.perMs);
      expect(s.maxConcurrent).toBe(limit.maxConcurrent ?? null);
      expect(Number.isInteger(s.minTime)).toBe(true);
      // max starts spaced by minTime span at least a window: no window holds max + 1.
      expect(s.minTime * limit.max).toBeGreaterThanOrEqual(limit.perMs);
      // …and the spacing costs at most 5% of the budget.
      expect(s.minTime * limit.max).toBeLessThanOrEqual(limit.perMs * 1.05 + limit.max);
    }
  });
});

describe('AccountGate', () => {
  /** Holds this process's event loop, as a wide wave of events does, while Redis answers. */
  const holdEventLoop = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {}
    return Date.now();
  };

  it('moves a start whose answer came back late to the time it really leaves', async () => {
    const log = `${prefix}:gate-test:starts`;
    const gate = new AccountGate(redis, { startLog: log, pause: `${prefix}:gate-test:paused` });
    await gate.tryStart(100, 1000, 'warm-up'); // loads the script: later calls are one round trip

    // The answer is read 150 ms after Redis logged the start: with 25 ms allowed, re-stamped.
    const late = gate.tryStart(100, 1000, 'late', 25);
    const readAt = holdEventLoop(150);
    expect(await late).toEqual({ start: true });
    expect(Number(await redis.zscore(log, 'late'))).toBeGreaterThanOrEqual(readAt - 5);

    // Without an allowance the start keeps the time Redis first logged it.
    const kept = gate.tryStart(100, 1000, 'kept');
    const keptReadAt = holdEventLoop(150);
    expect(await kept).toEqual({ start: true });
    expect(Number(await redis.zscore(log, 'kept'))).toBeLessThan(keptReadAt - 75);
  });
});

describe('AccountLimiter', () => {
  it('runs the request and hands back its own result or error unchanged', async () => {
    const limiter = limiters.forAccount('HUBSPOT:results', { max: 100, perMs: 1000 });
    await expect(limiter.schedule(async () => ({ id: '42' }))).resolves.toEqual({ id: '42' });
    const failure = new Error('provider said no');
    await expect(limiter.schedule(async () => Promise.reject(failure))).rejects.toBe(failure);
    await expect(
      limiter.schedule(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('returns the same limiter for the same account', () => {
    const limit = { max: 5, perMs: 1000 };
    expect(limiters.forAccount('SLACK:same', limit)).toBe(limiters.forAccount('SLACK:same', limit));
  });

  it("starts queued 'live' requests before queued 'bulk' ones", async () => {
    const account = 'HUBSPOT:priority';
    const limiter = limiters.forAccount(account, { max: 1000, perMs: 1000, maxConcurrent: 1 });
    const blocker = gate();
    const order: string[] = [];
    let blocking = false;
    const running = limiter.schedule(async () => {
      blocking = true;
      await blocker.opened;
    });
    await waitFor('the blocking request to hold the only slot', () => blocking);

    const jobs = [
      ...[1, 2, 3].map((n) => limiter.schedule(async () => order.push(`bulk${n}`), { priority: 'bulk' })),
      ...[1, 2, 3].map((n) => limiter.schedule(async () => order.push(`live${n}`), { priority: 'live' })),
    ];
    await waitFor('all six requests to be queued behind it', async () => (await queuedJobs(account)) === 6);
    blocker.open();
    await Promise.all([running, ...jobs]);
    expect(order).toEqual(['live1', 'live2', 'live3', 'bulk1', 'bulk2', 'bulk3']);
  });

  it('rejects with a clear timeout error when no slot comes in time, and never runs that request later', async () => {
    const limiter = limiters.forAccount('MAILCHIMP:timeout', { max: 1000, perMs: 1000, maxConcurrent: 1 });
    const blocker = gate();
    const running = limiter.schedule(() => blocker.opened);
    let lateRuns = 0;
    const started = Date.now();
    const error = await limiter
      .schedule(async () => (lateRuns += 1), { timeoutMs: 300 })
      .catch((e: unknown) => e);
    const waited = Date.now() - started;

    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect((error as RateLimitTimeoutError).kind).toBe('retryable');
    expect((error as Error).message).toBe(
      'no slot in the rate limit of account MAILCHIMP:timeout (1000 per 1000 ms, 1 at once) within 300 ms',
    );
    expect(waited).toBeGreaterThanOrEqual(295);
    expect(waited).toBeLessThan(3000);

    blocker.open();
    await running;
    // The next request gets the slot the timed-out one was queued for; that one stays unrun.
    await limiter.schedule(async () => undefined);
    expect(lateRuns).toBe(0);
  });

  it('holds every request while the account is paused and starts them when the pause ends', async () => {
    const limiter = limiters.forAccount('HUBSPOT:paused', { max: 100, perMs: 1000 });
    await limiter.pauseFor(400);
    const until = await limiter.pausedUntil();
    expect(until).not.toBeNull();
    expect(until! - Date.now()).toBeGreaterThan(300);

    const starts = await Promise.all([1, 2, 3].map(() => limiter.schedule(async () => Date.now())));
    for (const start of starts) expect(start).toBeGreaterThanOrEqual(until! - 20);
    expect(await limiter.pausedUntil()).toBeNull();
  });

  it('keeps the longer of two pauses', async () => {
    const limiter = limiters.forAccount('HUBSPOT:two-pauses', { max: 100, perMs: 1000 });
    await limiter.pauseFor(5000);
    await limiter.pauseFor(1000);
    const until = await limiter.pausedUntil();
    expect(until! - Date.now()).toBeGreaterThan(4000);
  });

  it('rejects at once, with the Retry-After, a request whose timeout ends before the pause does', async () => {
    const limiter = limiters.forAccount('HUBSPOT:long-pause', { max: 100, perMs: 1000 });
    await limiter.pauseFor(10_000);
    let ran = false;
    const started = Date.now();
    const error = (await limiter
      .schedule(async () => (ran = true), { timeoutMs: 2000 })
      .catch((e: unknown) => e)) as RateLimitTimeoutError;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect(error.message).toMatch(
      /^account HUBSPOT:long-pause is paused for another \d+ ms \(provider Retry-After\), later than this request's 2000 ms timeout$/,
    );
    expect(error.retryAfterMs).toBeGreaterThan(8000);
    expect(ran).toBe(false);
  });

  it('two limiter sets in one process share the account budget, and neither hangs', async () => {
    // Bottleneck hangs when two limiters of one id share a connection (UNKNOWN_CLIENT); each
    // of ours has its own.
    const other = createRateLimiters({ redisUrl: testRedisUrl(), prefix });
    try {
      const limit = { max: 5, perMs: 1000 };
      const a = limiters.forAccount('SEGMENT:twice', limit);
      const b = other.forAccount('SEGMENT:twice', limit);
      const starts = await Promise.all(
        [a, b, a, b, a, b, a].map((l) => l.schedule(async () => Date.now(), { timeoutMs: 10_000 })),
      );
      starts.sort((x, y) => x - y);
      // Seven starts at five per second: the sixth and seventh wait for the next window.
      expect(starts[5]! - starts[0]!).toBeGreaterThanOrEqual(1000);
    } finally {
      await other.close();
    }
  });

  it('applies a changed limit to the account it already has', async () => {
    const account = 'HUBSPOT:changed';
    const fast = limiters.forAccount(account, { max: 1000, perMs: 1000 });
    const slow = limiters.forAccount(account, { max: 5, perMs: 1000 });
    expect(slow).toBe(fast);
    const starts = await Promise.all([1, 2, 3].map(() => slow.schedule(async () => Date.now())));
    starts.sort((x, y) => x - y);
    // 5 per second means starts at least ~200 ms apart (1000 per second would allow 1 ms).
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(380);
    const settings = await redis.hget(`b_${prefix}:ratelimit:${account}_settings`, 'minTime');
    expect(Number(settings)).toBe(bottleneckSettings({ max: 5, perMs: 1000 }).minTime);
  });

  it('refuses limits and options that cannot work, naming the account and the field', async () => {
    expect(() => limiters.forAccount('HUBSPOT:bad', { max: 0, perMs: 1000 })).toThrow(RateLimitConfigError);
    expect(() => limiters.forAccount('HUBSPOT:bad', { max: 0, perMs: 1000 })).toThrow(
      'rate limit for account HUBSPOT:bad is invalid: max: Too small: expected number to be >0',
    );
    expect(() => limiters.forAccount('HUBSPOT:bad', { max: 10, perMs: 1.5, maxConcurrent: -1 })).toThrow(
      /perMs: .*; maxConcurrent: /,
    );
    expect(() => limiters.forAccount('', { max: 1, perMs: 1000 })).toThrow(
      'accountKey must be a non-empty string',
    );

    const limiter = limiters.forAccount('HUBSPOT:options', { max: 10, perMs: 1000 });
    await expect(limiter.schedule(async () => 1, { timeoutMs: 0 })).rejects.toThrow(
      'schedule() on account HUBSPOT:options: timeoutMs must be a positive number of milliseconds, got 0',
    );
    await expect(
      limiter.schedule(async () => 1, { priority: 'urgent' as unknown as 'live' }),
    ).rejects.toThrow(
      `schedule() on account HUBSPOT:options: priority must be 'live' or 'bulk', got "urgent"`,
    );
    await expect(limiter.pauseFor(Number.NaN)).rejects.toThrow(
      'pauseFor() on account HUBSPOT:options: ms must be a finite number >= 0, got NaN',
    );
    expect(() => createRateLimiters({ redisUrl: '', prefix: 'x' })).toThrow(
      'redisUrl must be a non-empty Redis URL',
    );
  });

  it('on close, rejects waiting requests and new ones as not sent', async () => {
    const own = createRateLimiters({ redisUrl: testRedisUrl(), prefix });
    const limiter = own.forAccount('MAILCHIMP:closing', { max: 1000, perMs: 1000, maxConcurrent: 1 });
    const blocker = gate();
    let blocking = false;
    const running = limiter.schedule(async () => {
      blocking = true;
      await blocker.opened;
    });
    await waitFor('the first request to hold the only slot', () => blocking);
    let ran = false;
    const waiting = limiter.schedule(async () => (ran = true)).catch((e: unknown) => e);
    await waitFor(
      'the second request to be queued',
      async () => (await queuedJobs('MAILCHIMP:closing')) === 1,
    );

    const closing = own.close();
    expect(await waiting).toBeInstanceOf(RateLimiterClosedError);
    blocker.open();
    await running;
    await closing;
    expect(ran).toBe(false);
    await expect(limiter.schedule(async () => 1)).rejects.toThrow(
      'the rate limiter of account MAILCHIMP:closing is closed; the request was not sent',
    );
    expect(() => own.forAccount('MAILCHIMP:closing', { max: 1, perMs: 1000 })).toThrow('closed');
  });
});
