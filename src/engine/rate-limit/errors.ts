import { RetryableError } from '../../connectors/errors.js';

/**
 * The account's shared budget gave no slot in time (a long queue, a long Retry-After, or Redis
 * unreachable). Nothing was sent to the provider, so the engine may retry the work later.
 */
export class RateLimitTimeoutError extends RetryableError {
  readonly accountKey: string;
  constructor(accountKey: string, message: string, details: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { code: 'RATE_LIMIT_TIMEOUT', ...details, notSent: true });
    this.accountKey = accountKey;
  }
}

/** The limiters were closed (the worker is shutting down); the request was not sent. */
export class RateLimiterClosedError extends RetryableError {
  constructor(accountKey: string) {
    super(`the rate limiter of account ${accountKey} is closed; the request was not sent`, {
      code: 'RATE_LIMITER_CLOSED',
      notSent: true,
    });
  }
}
