import type { HttpFailure } from './error-table.js';
import { Problem } from './responses.js';

/** The fields of a superagent 3 error this connector reads; nothing else of it is kept. */
interface SuperagentLike {
  status?: unknown;
  code?: unknown;
  timeout?: unknown;
  response?:
    | { status?: unknown; body?: unknown; text?: unknown; headers?: Record<string, unknown> }
    | undefined;
}

export function isHttpLikeError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as SuperagentLike;
  return e.response !== undefined || typeof e.status === 'number' || typeof e.code === 'string';
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Reads status, problem body and Retry-After out of an SDK error. The request (and with it the
 * Authorization header) is deliberately left behind.
 */
export function toHttpFailure(error: unknown): HttpFailure {
  const e = (error ?? {}) as SuperagentLike;
  const response = e.response;
  const status =
    typeof response?.status === 'number'
      ? response.status
      : typeof e.status === 'number'
        ? e.status
        : undefined;
  const parsed = Problem.safeParse(response?.body);
  const problem = parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : undefined;
  const text =
    typeof response?.text === 'string' && response.text !== '' ? response.text.slice(0, 2000) : undefined;
  const network =
    status === undefined
      ? typeof e.code === 'string'
        ? e.code
        : e.timeout
          ? 'ETIMEDOUT'
          : undefined
      : undefined;
  return {
    status,
    problem,
    text: problem ? undefined : text,
    retryAfterMs: parseRetryAfter(response?.headers?.['retry-after']),
    network,
  };
}
