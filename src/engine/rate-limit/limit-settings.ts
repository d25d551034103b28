import { z } from 'zod';
import type { RateLimit } from '../../connectors/types.js';

/** The shape a rate limit must have before it becomes a shared budget in Redis. */
const RateLimitShape = z.object({
  max: z.number().int().positive(),
  perMs: z.number().int().positive(),
  maxConcurrent: z.number().int().positive().nullish(),
});

export class RateLimitConfigError extends Error {
  override name = 'RateLimitConfigError';
}

/** Checks a connector's or an override's limit, naming the account and field when it cannot work. */
export function parseRateLimit(accountKey: string, limit: unknown): RateLimit {
  const parsed = RateLimitShape.safeParse(limit);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(limit)'}: ${i.message}`)
      .join('; ');
    throw new RateLimitConfigError(`rate limit for account ${accountKey} is invalid: ${problems}`);
  }
  return {
    max: parsed.data.max,
    perMs: parsed.data.perMs,
    maxConcurrent: parsed.data.maxConcurrent ?? undefined,
  };
}

export function sameLimit(a: RateLimit, b: RateLimit): boolean {
  return a.max === b.max && a.perMs === b.perMs && (a.maxConcurrent ?? null) === (b.maxConcurrent ?? null);
}

/**
 * How late a request may reach the provider after its start was admitted (timers run late under
 * load, the gate's round trip, a busy event loop serialising bodies and routing events) before
 * the provider's window could see one request too many. 5% of the window, at most 200 ms: a
 * 10-second window (HubSpot) gets 200 ms, because a worker busy routing a burst of events was
 * measured delaying a batch upsert by over 100 ms between its admission and its arrival (one
 * 429 in the benchmark with 50 ms); a 1-second window (Mailchimp) keeps 50 ms, and slow limits
 * (Slack, 1 per second) lose no more than 5%.
 */
export function startSlackMs(perMs: number): number {
  return Math.min(200, perMs * 0.05);
}

/** The start gate counts over the window plus the slack (see AccountGate). */
export function gateWindowMs(limit: RateLimit): number {
  return limit.perMs + startSlackMs(limit.perMs);
}

/**
 * "max per perMs" as Bottleneck settings. Starts are spaced by minTime, which is what keeps
 * sliding windows at or under max (HubSpot's "ten_secondly_rolling" counts that way): max starts
 * at least minTime apart span the gate's window (perMs plus the slack), rounded up, so steady
 * pacing never fills the gate's window. Whole milliseconds only: Bottleneck's clustered scripts
 * stall on a fractional minTime.
 *
 * The reservoir does not count the budget (minTime and the gate do): it is twice the budget per
 * interval. Bottleneck takes a reservoir unit when it hands out a slot, and it hands slots out
 * ahead of their start (a request that must wait for minTime is registered at once with "start
 * in N ms"). With exactly max per interval, slots handed out early spent the next interval's
 * units, and every max-th request waited for the refresh: a gap of 200–300 ms once per second at
 * Mailchimp's 8/s (connector and limiter alone: 0.86 of the ceiling with max, 0.94 with 2 × max).
 * A reservoir it is still, so that Bottleneck's state can be re-created and topped up (kicks,
 * slots handed back) as before.
 */
export function bottleneckSettings(limit: RateLimit) {
  return {
    reservoir: limit.max * 2,
    reservoirRefreshAmount: limit.max * 2,
    reservoirRefreshInterval: limit.perMs,
    minTime: Math.ceil(gateWindowMs(limit) / limit.max),
    maxConcurrent: limit.maxConcurrent ?? null,
  };
}

/**
 * What a limit change sends through `updateSettings`. The live reservoir is left alone: setting it
 * here would hand a fresh full budget to an account that may have spent its window already.
 */
export function bottleneckUpdate(limit: RateLimit) {
  const { reservoir: _live, ...rest } = bottleneckSettings(limit);
  return rest;
}
