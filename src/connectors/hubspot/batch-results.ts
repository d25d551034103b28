import {
  AuthError,
  type ConnectorError,
  PermanentError,
  RateLimitedError,
  RetryableError,
} from '../errors.js';
import type { Settled } from './batch-isolation.js';
import { kindFor } from './error-table.js';

export interface ResultObject {
  id: string;
  objectWriteTraceId?: string | undefined;
  properties?: { [name: string]: string | null } | undefined;
}

/** One entry of a multi-status answer's `errors` (HubSpot's `StandardError`). */
export interface BatchErrorItem {
  category: string;
  message: string;
  status?: string | undefined;
  context?: { [key: string]: string[] } | undefined;
}

export interface MatchableInput {
  traceId: string;
  /** The HubSpot id the input was sent for (updates). */
  id?: string | undefined;
  /** The unique value it was matched by (email, domain), lower-cased. */
  matchKey?: string | undefined;
}

/**
 * Pairs a batch answer with its inputs. HubSpot does not promise results in input order, so an
 * input is found by its objectWriteTraceId, then its id, then its match property; by position
 * only when nothing else tells. Multi-status errors are pinned on the inputs their context names.
 */
export function matchBatchAnswer<R extends ResultObject>(
  inputs: readonly MatchableInput[],
  answer: { results: R[]; errors?: BatchErrorItem[] | undefined },
  options: { what: string; matchProperty?: string | undefined },
): Settled<R>[] {
  const used = new Set<R>();
  const take = (result: R | undefined) => {
    if (!result || used.has(result)) return undefined;
    used.add(result);
    return result;
  };
  const keyOf = (r: R) => {
    const value = options.matchProperty ? r.properties?.[options.matchProperty] : undefined;
    return typeof value === 'string' ? value.toLowerCase() : undefined;
  };
  const errors = answer.errors ?? [];
  const out: (Settled<R> | undefined)[] = inputs.map((input) => {
    const error = errors.find((e) => mentions(e, input));
    if (error) return { error: errorFromBatchItem(error, options.what) };
    const result =
      take(answer.results.find((r) => r.objectWriteTraceId === input.traceId)) ??
      (input.id ? take(answer.results.find((r) => r.id === input.id)) : undefined) ??
      (input.matchKey ? take(answer.results.find((r) => keyOf(r) === input.matchKey)) : undefined);
    return result ? { ok: result } : undefined;
  });
  // Positional fallback, for answers that carry neither trace ids nor the match property.
  if (errors.length === 0 && answer.results.length === inputs.length) {
    out.forEach((settled, i) => {
      const result = settled ? undefined : take(answer.results[i]);
      if (result) out[i] = { ok: result };
    });
  }
  return out.map(
    (settled) =>
      settled ?? {
        error: new RetryableError(`HubSpot ${options.what}: the answer had no result for this record`, {
          code: 'MISSING_RESULT',
        }),
      },
  );
}

function mentions(error: BatchErrorItem, input: MatchableInput): boolean {
  const values = Object.values(error.context ?? {}).flat();
  const names = [input.traceId, input.id, input.matchKey].filter((v): v is string => !!v);
  return names.some((name) => values.some((v) => v === name || v.toLowerCase() === name));
}

export function errorFromBatchItem(item: BatchErrorItem, what: string): ConnectorError {
  const message = `HubSpot ${what}: ${item.category}: ${item.message}`;
  const details = { code: item.category, body: item };
  switch (kindFor(undefined, item.category)) {
    case 'rate_limited':
      return new RateLimitedError(message, { ...details, retryAfterMs: 10_000 });
    case 'auth':
      return new AuthError(message, details);
    default:
      // A multi-status entry is about that one input: unless HubSpot says otherwise it is the
      // input's own fault, and resending it unchanged would fail the same way.
      return new PermanentError(message, details);
  }
}
