import { randomUUID } from 'node:crypto';
import type { RateLimit } from '../../connectors/types.js';
import type { Logger } from '../../logging/logger.js';
import type { AccountGate, GateAnswer } from './account-gate.js';
import { BottleneckInstance } from './bottleneck-instance.js';
import { RateLimiterClosedError, RateLimitTimeoutError } from './errors.js';
import { gateWindowMs, sameLimit, startSlackMs } from './limit-settings.js';

export type SchedulePriority = 'live' | 'bulk';

export interface ScheduleOptions {
  /** 'live' work (a CRM change just made) starts before queued 'bulk' work (resyncs). Default 'live'. */
  priority?: SchedulePriority;
  /** Rejects with RateLimitTimeoutError when no slot came within this time. Default 5 minutes. */
  timeoutMs?: number;
}

export interface AccountLimiter {
  /** Runs fn when the account's shared budget allows; priority 'live' before 'bulk'. Never hangs: rejects
   *  with a clear error if it cannot get a slot within `timeoutMs` (default 5 min). */
  schedule<T>(fn: () => Promise<T>, opts?: ScheduleOptions): Promise<T>;
  /** Pauses the account for every process (a 429's Retry-After): no request starts before `until`. */
  pauseFor(ms: number): Promise<void>;
  /** When a pause is in force (read from Redis), else null. */
  pausedUntil(): Promise<number | null>;
  /** Requests of this process waiting for a slot now (scheduled, not yet started). */
  waitingHere(): number;
}

export const DEFAULT_SCHEDULE_TIMEOUT_MS = 5 * 60_000;

/** Bottleneck runs lower numbers first (0–9). */
const PRIORITY: Record<SchedulePriority, number> = { live: 2, bulk: 7 };

/**
 * A slot is a lease: if the process holding it dies, or its "free" never reaches Redis, the slot
 * returns to the account after this long instead of shrinking `maxConcurrent` for good. Longer
 * than any provider request may take (Mailchimp times out at 120 s).
 */
/** The longest a granted slot waits for the start gate's window before handing the slot back. */
const IN_SLOT_WAIT_MS = 2000;
const SLOT_LEASE_MS = 180_000;

const MAX_RETRY_DELAY_MS = 2_000;

type Attempt<T> =
  | { kind: 'started'; result: Promise<T> }
  | { kind: 'held'; ms: number; reason: 'paused' | 'window_full' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'timeout' };

export interface SharedAccountLimiterDeps {
  accountKey: string;
  /** Bottleneck's id: its Redis keys are `b_<id>_settings` and so on. */
  bottleneckId: string;
  redisUrl: string;
  gate: AccountGate;
  logger: Logger;
}

/**
 * One provider account's budget, shared through Redis by every worker process.
 *
 * Bottleneck does the counting (minTime spacing + maxConcurrent, clustered); this shell adds
 * what it lacks: a bounded wait, the shared Retry-After pause, a retry when a job was lost to a
 * Redis failure before it started, a fresh instance when one is beyond repair, and "kicks" that
 * make waiting jobs drain again after the reservoir refills or the state is re-created.
 */
export class SharedAccountLimiter implements AccountLimiter {
  private instance: BottleneckInstance;
  private limit: RateLimit;
  private waiting = 0;
  private lastProgressAt = Date.now();
  private kickTimer: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();
  private closed = false;
  private degraded = false;

  constructor(
    private readonly deps: SharedAccountLimiterDeps,
    limit: RateLimit,
  ) {
    this.limit = limit;
    this.instance = this.createInstance();
  }

  async schedule<T>(fn: () => Promise<T>, opts: ScheduleOptions = {}): Promise<T> {
    const { accountKey } = this.deps;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_SCHEDULE_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(
        `schedule() on account ${accountKey}: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
      );
    }
    const priority = opts.priority ?? 'live';
    if (!Object.hasOwn(PRIORITY, priority)) {
      throw new RangeError(
        `schedule() on account ${accountKey}: priority must be 'live' or 'bulk', got ${JSON.stringify(priority)}`,
      );
    }
    if (this.closed) throw new RateLimiterClosedError(accountKey);

    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    let failures = 0;
    this.waiting += 1;
    this.ensureKicking();
    try {
      for (;;) {
        const attempt = await this.attempt(fn, PRIORITY[priority], deadline);
        if (attempt.kind === 'started') {
          this.progressed();
          return attempt.result;
        }
        if (this.closed) throw new RateLimiterClosedError(accountKey);
        if (attempt.kind === 'timeout') {
          throw new RateLimitTimeoutError(
            accountKey,
            `no slot in the rate limit of account ${accountKey} (${this.describeLimit()}) within ${timeoutMs} ms` +
              (lastError ? `; last limiter error: ${messageOf(lastError)}` : ''),
            { cause: lastError },
          );
        }
        let delayMs: number;
        if (attempt.kind === 'held') {
          delayMs = attempt.ms;
          if (Date.now() + delayMs > deadline) {
            const why =
              attempt.reason === 'paused'
                ? `is paused for another ${delayMs} ms (provider Retry-After)`
                : `has used its ${this.describeLimit()} and frees a start in ${delayMs} ms`;
            throw new RateLimitTimeoutError(
              accountKey,
              `account ${accountKey} ${why}, later than this request's ${timeoutMs} ms timeout`,
              { retryAfterMs: delayMs },
            );
          }
        } else {
          lastError = attempt.error;
          failures += 1;
          this.noteTrouble(attempt.error);
          delayMs = Math.min(MAX_RETRY_DELAY_MS, 25 * 2 ** failures, Math.max(0, deadline - Date.now()));
        }
        await this.sleep(delayMs);
        if (this.closed) throw new RateLimiterClosedError(accountKey);
      }
    } finally {
      this.waiting -= 1;
    }
  }

  waitingHere(): number {
    return this.waiting;
  }

  async pauseFor(ms: number): Promise<void> {
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0 || !Number.isFinite(ms)) {
      throw new RangeError(
        `pauseFor() on account ${this.deps.accountKey}: ms must be a finite number >= 0, got ${String(ms)}`,
      );
    }
    if (ms === 0) return;
    await this.deps.gate.extendPause(ms);
  }

  async pausedUntil(): Promise<number | null> {
    const remaining = await this.deps.gate.pauseRemainingMs();
    return remaining > 0 ? Date.now() + remaining : null;
  }

  /** Applies a changed limit (an integration's override) to the shared state of every process. */
  useLimit(limit: RateLimit): void {
    if (sameLimit(limit, this.limit)) return;
    this.deps.logger.info(
      { account: this.deps.accountKey, from: this.limit, to: limit },
      'rate limit of the account changed',
    );
    this.limit = limit;
    void this.instance.applyLimit(limit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.kickTimer);
    this.kickTimer = undefined;
    for (const wake of this.sleepers) wake();
    await this.instance.dispose();
  }

  /**
   * One try at a slot. When Bottleneck grants it, the start gate decides right before `fn`
   * would start, so a pause set by any process stops requests already queued everywhere. A job
   * held by the gate or lost to a Redis failure hands its slot back at once and the caller tries
   * again; a slot that comes after the caller gave up is handed back unused.
   */
  private attempt<T>(fn: () => Promise<T>, priority: number, deadline: number): Promise<Attempt<T>> {
    const instance = this.current();
    return new Promise<Attempt<T>>((resolve) => {
      let settled = false;
      const settle = (attempt: Attempt<T>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(attempt);
      };
      const timer = setTimeout(() => settle({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
      // A limit changed just before must govern this request: wait for it to reach Redis.
      instance.settingsApplied
        .then(() =>
          instance.bottleneck.schedule({ priority, expiration: SLOT_LEASE_MS }, async () => {
            if (settled) return;
            let answer = await this.askGate();
            // A full window frees up within a slot's spacing: wait for it here, keeping the slot,
            // rather than queueing again behind every other waiting request (which cost a whole
            // extra spacing per hold, and showed as gaps at the end of long backlogs).
            while (
              !answer.start &&
              answer.reason === 'window_full' &&
              answer.retryInMs <= IN_SLOT_WAIT_MS &&
              Date.now() + answer.retryInMs < deadline &&
              !settled
            ) {
              await new Promise((r) => setTimeout(r, answer.start ? 0 : answer.retryInMs));
              if (settled) return;
              answer = await this.askGate();
            }
            if (settled) return;
            if (!answer.start) {
              // The request did not start: its reservoir unit goes back, or every hold would
              // shrink the budget left in the refresh interval.
              instance.bottleneck.incrementReservoir(1).catch(() => undefined);
              settle({ kind: 'held', ms: answer.retryInMs, reason: answer.reason });
              return;
            }
            let result: Promise<T>;
            try {
              result = Promise.resolve(fn());
            } catch (error) {
              result = Promise.reject(error);
            }
            settle({ kind: 'started', result });
            // The slot stays taken while the request runs (maxConcurrent counts requests in flight).
            await result.catch(() => undefined);
          }),
        )
        .then(
          () => instance.succeeded(),
          (error: unknown) => {
            if (settled) return;
            instance.failed();
            settle({ kind: 'failed', error });
          },
        );
    });
  }

  /** A gate that cannot answer must not stop the account: Bottleneck's pacing still holds. */
  private async askGate(): Promise<GateAnswer> {
    try {
      return await this.deps.gate.tryStart(
        this.limit.max,
        gateWindowMs(this.limit),
        randomUUID(),
        startSlackMs(this.limit.perMs) / 2,
      );
    } catch (error) {
      this.noteTrouble(error);
      return { start: true };
    }
  }

  private current(): BottleneckInstance {
    if (this.instance.broken && !this.closed) {
      this.deps.logger.warn({ account: this.deps.accountKey }, 'replacing a broken rate limiter instance');
      void this.instance.dispose();
      this.instance = this.createInstance();
    }
    return this.instance;
  }

  private createInstance(): BottleneckInstance {
    return new BottleneckInstance({
      id: this.deps.bottleneckId,
      redisUrl: this.deps.redisUrl,
      limit: () => this.limit,
      onError: (error) => this.noteTrouble(error),
    });
  }

  /**
   * Bottleneck drains its queue when Redis tells it capacity came back, which its own heartbeat
   * (every 5 s) announces even if nothing else happens, and which its heartbeat skips entirely
   * once the state was lost. While callers wait and nothing starts, poke the shared state: the
   * poke re-creates lost state (patched recovery) and announces capacity to every process.
   */
  private ensureKicking(): void {
    if (this.kickTimer || this.closed) return;
    const interval = Math.min(1_000, Math.max(50, Math.ceil(this.limit.perMs / this.limit.max)));
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      if (this.waiting === 0 || this.closed) return;
      // Under steady flow a request starts every minTime somewhere: only a stall needs a kick.
      if (Date.now() - this.lastProgressAt >= interval * 1.5) this.kick();
      this.ensureKicking();
    }, interval);
  }

  private kick(): void {
    const instance = this.current();
    if (instance.kicking) return;
    instance.kicking = true;
    instance.bottleneck
      .incrementReservoir(0)
      .then(
        () => instance.succeeded(),
        (error: unknown) => {
          instance.failed();
          this.noteTrouble(error);
        },
      )
      .finally(() => {
        instance.kicking = false;
      });
  }

  private progressed(): void {
    this.lastProgressAt = Date.now();
    if (this.degraded) {
      this.degraded = false;
      this.deps.logger.info({ account: this.deps.accountKey }, 'rate limiter recovered');
    }
  }

  /** Logs the first of a run of failures only: an outage would otherwise log every few ms. */
  private noteTrouble(error: unknown): void {
    if (this.degraded || this.closed) return;
    this.degraded = true;
    this.deps.logger.warn(
      { account: this.deps.accountKey, err: messageOf(error) },
      'rate limiter cannot use its Redis state; retrying',
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private describeLimit(): string {
    const { max, perMs, maxConcurrent } = this.limit;
    return `${max} per ${perMs} ms${maxConcurrent ? `, ${maxConcurrent} at once` : ''}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
