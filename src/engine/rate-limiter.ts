/**
 * Rate limits per provider account, shared by every worker process through Redis.
 *
 * One clustered Bottleneck per account ("max per perMs" as minTime spacing, plus
 * maxConcurrent), patched for Redis 7 and wrapped so that a request never waits forever and a
 * 429's Retry-After pauses the account everywhere. See docs/rate-limiting.md.
 *
 * @example
 * const limiters = createRateLimiters({ redisUrl, prefix: 'crm-sync', logger });
 * const hubspot = limiters.forAccount('HUBSPOT:12345', { max: 80, perMs: 10_000 });
 * const answer = await hubspot.schedule(() => client.batchUpsert(inputs), { priority: 'bulk' });
 * // on a 429: await hubspot.pauseFor(retryAfterMs)
 */
import { Redis } from 'ioredis';
import type { RateLimit } from '../connectors/types.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import { AccountGate } from './rate-limit/account-gate.js';
import { SharedAccountLimiter } from './rate-limit/account-limiter.js';
import { parseRateLimit } from './rate-limit/limit-settings.js';

export type { RateLimit } from '../connectors/types.js';
export {
  type AccountLimiter,
  DEFAULT_SCHEDULE_TIMEOUT_MS,
  type ScheduleOptions,
  type SchedulePriority,
} from './rate-limit/account-limiter.js';
export { RateLimiterClosedError, RateLimitTimeoutError } from './rate-limit/errors.js';
export { bottleneckSettings, RateLimitConfigError } from './rate-limit/limit-settings.js';

import type { AccountLimiter } from './rate-limit/account-limiter.js';

export interface RateLimitersOptions {
  redisUrl: string;
  /** Key prefix (the queue prefix): keys are `<prefix>:ratelimit:<account>…` and `b_<prefix>:ratelimit:<account>_…`. */
  prefix: string;
  logger?: Logger;
}

export interface RateLimiters {
  /** The account's limiter, one per account key in this process; a changed limit is applied to it. */
  forAccount(accountKey: string, limit: RateLimit): AccountLimiter;
  close(): Promise<void>;
}

export function createRateLimiters(opts: RateLimitersOptions): RateLimiters {
  if (typeof opts.redisUrl !== 'string' || opts.redisUrl.trim() === '') {
    throw new TypeError('createRateLimiters: redisUrl must be a non-empty Redis URL');
  }
  if (typeof opts.prefix !== 'string' || opts.prefix === '') {
    throw new TypeError('createRateLimiters: prefix must be a non-empty string');
  }
  const logger = opts.logger ?? silentLogger;
  // The start gate and pause keys: plain commands, so one connection serves every account.
  const commands = new Redis(opts.redisUrl, {
    lazyConnect: true,
    connectionName: 'crm-sync:ratelimit-pause',
  });
  let commandsFailing = false;
  commands.on('error', (error: Error) => {
    if (!commandsFailing) logger.warn({ err: error.message }, 'rate limiter pause connection error');
    commandsFailing = true;
  });
  commands.on('ready', () => {
    commandsFailing = false;
  });

  const limiters = new Map<string, SharedAccountLimiter>();
  let closed = false;

  return {
    forAccount(accountKey, limit) {
      if (typeof accountKey !== 'string' || accountKey === '') {
        throw new TypeError(
          `forAccount: accountKey must be a non-empty string, got ${JSON.stringify(accountKey)}`,
        );
      }
      if (closed) throw new Error(`forAccount(${accountKey}): the rate limiters are closed`);
      const parsed = parseRateLimit(accountKey, limit);
      const existing = limiters.get(accountKey);
      if (existing) {
        existing.useLimit(parsed);
        return existing;
      }
      // Connect before the first request: its pause check should not pay for the handshake.
      if (commands.status === 'wait') commands.connect().catch(() => undefined);
      const base = `${opts.prefix}:ratelimit:${accountKey}`;
      const limiter = new SharedAccountLimiter(
        {
          accountKey,
          bottleneckId: base,
          redisUrl: opts.redisUrl,
          gate: new AccountGate(commands, { startLog: `${base}:starts`, pause: `${base}:paused-until` }),
          logger,
        },
        parsed,
      );
      limiters.set(accountKey, limiter);
      return limiter;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...limiters.values()].map((l) => l.close()));
      limiters.clear();
      await commands.quit().catch(() => commands.disconnect());
    },
  };
}
