import type { ErrorKind } from '../errors.js';

/**
 * HubSpot's answers → what the engine should do. Data, read top to bottom, first match wins.
 * Sources: https://developers.hubspot.com/docs/api/usage-details (429 bodies, policy names),
 * https://developers.hubspot.com/docs/api/crm/understanding-the-crm#error-handling (categories).
 */
export interface ErrorRule {
  /** HTTP status, or a `[from, to]` range. */
  status?: number | readonly [number, number];
  /** HubSpot's `category` in the error body (`VALIDATION_ERROR`, `CONFLICT`, …). */
  category?: string;
  kind: ErrorKind;
  why: string;
}

export const ERROR_TABLE: readonly ErrorRule[] = [
  { status: 401, kind: 'auth', why: 'the access token is invalid, expired or revoked' },
  { status: 403, kind: 'auth', why: 'the token lacks a scope this sync needs, or the account is locked' },
  { status: 429, kind: 'rate_limited', why: 'ten-secondly, secondly (search) or daily limit reached' },
  { status: 408, kind: 'retryable', why: 'HubSpot timed out the request' },
  { status: 423, kind: 'retryable', why: 'the record is locked by a concurrent write (e.g. a merge)' },
  { status: [500, 599], kind: 'retryable', why: 'HubSpot is failing or overloaded' },
  { category: 'RATE_LIMITS', kind: 'rate_limited', why: 'a rate limit reported with another status' },
  {
    category: 'VALIDATION_ERROR',
    kind: 'permanent',
    why: 'a property value, email or enum option is invalid',
  },
  {
    category: 'CONFLICT',
    kind: 'permanent',
    why: 'the record already exists (resolved before it gets here)',
  },
  { category: 'OBJECT_NOT_FOUND', kind: 'permanent', why: 'the record was deleted or merged at HubSpot' },
  { category: 'OBJECT_ALREADY_EXISTS', kind: 'permanent', why: 'a list or property with that name exists' },
  { status: 404, kind: 'permanent', why: 'the resource does not exist' },
  { status: [400, 499], kind: 'permanent', why: 'HubSpot refused this input' },
];

/** When nothing matched (no status at all: a network failure), try again later. */
export const NO_ANSWER_KIND: ErrorKind = 'retryable';

export function kindFor(status: number | undefined, category: string | undefined): ErrorKind {
  for (const rule of ERROR_TABLE) {
    if (rule.category !== undefined && rule.category !== category) continue;
    if (rule.status !== undefined) {
      if (status === undefined) continue;
      const [from, to] = typeof rule.status === 'number' ? [rule.status, rule.status] : rule.status;
      if (status < from || status > to) continue;
    }
    return rule.kind;
  }
  return NO_ANSWER_KIND;
}
