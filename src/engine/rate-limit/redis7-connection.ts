/**
 * Bottleneck's ioredis connection, patched for Redis 7.
 *
 * Bottleneck 2.19.5 recovers from lost state by comparing script errors exactly:
 * `SETTINGS_KEY_NOT_FOUND` re-creates the limiter's settings, `UNKNOWN_CLIENT` re-registers the
 * process. Redis 7 prefixes `redis.error_reply()` messages with `ERR `, so neither comparison
 * matches and, once the keys are gone (FLUSHALL, eviction, a restart without persistence, the
 * `timeout` TTL), every job rejects with `ERR SETTINGS_KEY_NOT_FOUND` forever
 * (https://github.com/SGrondin/bottleneck/issues/205, #212, #219; fixes unmerged). Stripping the
 * prefix where Bottleneck receives script replies restores its own recovery, on Redis 6 and 7 alike.
 */
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';

/** The errors Bottleneck's scripts raise on purpose; others are left untouched. */
const BOTTLENECK_SIGNAL = /^ERR ((?:SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT|OVERWEIGHT:)[^\n]*)/;

/** Restores the message Bottleneck compares against, keeping the error object (and its stack). */
export function stripRedis7Prefix(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const match = BOTTLENECK_SIGNAL.exec(error.message);
  if (match?.[1]) error.message = match[1];
  return error;
}

type ScriptCallback = (error: unknown, replies: unknown) => void;
type ScriptFn = (...args: unknown[]) => unknown;

/**
 * `__scriptFn__` is the seam Bottleneck's Redis datastore calls every script through (its last
 * argument is the reply callback); wrapping it is the smallest patch that needs no vendor edit.
 */
export class Redis7Connection extends Bottleneck.IORedisConnection {
  constructor(client: Redis) {
    super({ client });
  }

  __scriptFn__(name: string): ScriptFn {
    const base = (Bottleneck.IORedisConnection.prototype as unknown as { __scriptFn__(n: string): ScriptFn })
      .__scriptFn__;
    const run = base.call(this, name);
    return (...args: unknown[]) => {
      const callback = args.pop() as ScriptCallback;
      return run(...args, (error: unknown, replies: unknown) =>
        callback(error == null ? error : stripRedis7Prefix(error), replies),
      );
    };
  }

  /** Connection-level errors (refused, reset) while Redis is away; Bottleneck emits them here. */
  onError(listener: (error: Error) => void): void {
    this.on('error', listener);
  }
}
