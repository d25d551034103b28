import { asClassified, type ConnectorError } from '../connectors/errors.js';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Base delay of the exponential backoff. */
  backoffMs: number;
  /** Cap on one delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 8, backoffMs: 1000, maxDelayMs: 10 * 60_000 };

export type FailureAction =
  | { action: 'retry'; delayMs: number }
  | { action: 'dead_letter'; reason: 'permanent' | 'exhausted' }
  | { action: 'pause_integration'; reason: string; untilMs?: number | undefined };

/**
 * "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniform delay in [base/2, min(cap, base·2^n)], which spreads retries of a failed batch
 * instead of sending them back together.
 */
export function backoffDelay(policy: RetryPolicy, attemptsMade: number, random: () => number = Math.random) {
  const ceiling = Math.min(policy.maxDelayMs, policy.backoffMs * 2 ** Math.max(0, attemptsMade - 1));
  const floor = Math.min(ceiling, policy.backoffMs / 2);
  return Math.round(floor + random() * (ceiling - floor));
}

/**
 * The error table's last column: what the engine does with each kind of failure.
 * `attemptsMade` counts the attempt that just failed.
 */
export function decideFailure(
  error: ConnectorError,
  attemptsMade: number,
  policy: RetryPolicy,
  random?: () => number,
): FailureAction {
  const classified = asClassified(error);
  switch (classified.kind) {
    case 'permanent':
      return { action: 'dead_letter', reason: 'permanent' };
    case 'auth':
      return { action: 'pause_integration', reason: `credentials rejected: ${error.message}` };
    case 'config':
      return { action: 'pause_integration', reason: `configuration error: ${error.message}` };
    case 'rate_limited':
      if (classified.scope === 'daily') {
        return {
          action: 'pause_integration',
          reason: `daily API quota exhausted: ${error.message}`,
          untilMs: Date.now() + classified.retryAfterMs,
        };
      }
      // A 429 is the provider asking for patience, not a failure of the record: it does not use
      // up the record's attempts budget as fast as an error would, but it is still bounded.
      if (attemptsMade >= policy.attempts * 2) return { action: 'dead_letter', reason: 'exhausted' };
      return { action: 'retry', delayMs: classified.retryAfterMs };
    case 'retryable':
      if (attemptsMade >= policy.attempts) return { action: 'dead_letter', reason: 'exhausted' };
      return {
        action: 'retry',
        delayMs: Math.max(classified.retryAfterMs ?? 0, backoffDelay(policy, attemptsMade, random)),
      };
  }
}
