import {
  AuthError,
  ConfigError,
  type ConnectorError,
  type ErrorKind,
  PermanentError,
  RateLimitedError,
  RetryableError,
} from '../errors.js';
import type { BatchSubscribeError, Problem } from './responses.js';

/**
 * Mailchimp answers → error kinds, as data (https://mailchimp.com/developer/marketing/docs/errors/).
 * The first matching row wins, so specific titles come before the status-wide rows.
 */

/** One failed HTTP exchange, already stripped of the request (which carries the API key). */
export interface HttpFailure {
  status: number | undefined;
  problem: Problem | undefined;
  /** The answer when it was not problem+json (Mailchimp's connection-limit 403 is HTML). */
  text: string | undefined;
  retryAfterMs: number | undefined;
  /** Node's error code when no answer came (ECONNREFUSED, ETIMEDOUT, …). */
  network: string | undefined;
}

/** `member` rows apply where a 404 means the member, not the audience, is missing. */
type Kind = ErrorKind | 'member_not_found';

interface Rule {
  status?: number | readonly [number, number];
  title?: string;
  detail?: RegExp;
  /** Matches answers whose body was not JSON. */
  notJson?: true;
  kind: Kind;
  /** Says what happened in words an admin can act on; the provider's own detail follows it. */
  reason?: string;
  retryAfterMs?: number;
}

export const HTTP_ERROR_TABLE: readonly Rule[] = [
  {
    title: 'Member In Compliance State',
    kind: 'permanent',
    reason:
      'the member unsubscribed, bounced or is under compliance review; Mailchimp does not let a sync resubscribe them',
  },
  {
    title: 'Forgotten Email Not Subscribed',
    kind: 'permanent',
    reason: 'the member was permanently deleted from the audience and can only come back by signing up again',
  },
  {
    title: 'Invalid Resource',
    detail: /signed up to a lot of lists very recently/i,
    kind: 'retryable',
    reason: 'Mailchimp holds back addresses that joined many audiences recently; try again later',
    retryAfterMs: 3_600_000,
  },
  { status: 400, kind: 'permanent' },
  { status: 401, kind: 'auth', reason: 'Mailchimp rejected the API key' },
  {
    status: 403,
    title: 'Wrong Datacenter',
    kind: 'config',
    reason: 'the base URL is not the API key’s data center',
  },
  // "10 simultaneous connections … or 403 without JSON at very high volume" (PROVIDERS.md).
  { status: 403, notJson: true, kind: 'rate_limited', retryAfterMs: 1000 },
  { status: 403, kind: 'auth', reason: 'the API key may not do this (disabled user or missing permission)' },
  { status: 404, kind: 'member_not_found' },
  { status: 405, kind: 'permanent' },
  { status: 414, kind: 'permanent' },
  { status: 422, kind: 'permanent' },
  { status: 429, kind: 'rate_limited', retryAfterMs: 1000 },
  { status: [500, 599], kind: 'retryable' },
];

function statusMatches(rule: Rule, status: number | undefined): boolean {
  if (rule.status === undefined) return true;
  if (status === undefined) return false;
  if (typeof rule.status === 'number') return rule.status === status;
  return status >= rule.status[0] && status <= rule.status[1];
}

function ruleFor(failure: HttpFailure): Rule | undefined {
  return HTTP_ERROR_TABLE.find(
    (rule) =>
      statusMatches(rule, failure.status) &&
      (rule.title === undefined || rule.title === failure.problem?.title) &&
      (rule.detail === undefined || rule.detail.test(failure.problem?.detail ?? '')) &&
      (rule.notJson === undefined || failure.problem === undefined),
  );
}

export interface ClassifyOptions {
  /** What the call was (`PUT member`), for the message. */
  operation: string;
  /** How a 404 counts here: the audience missing (config), or the member (per record). */
  notFound: 'config' | 'permanent' | 'retryable';
}

/** Turns a failed call into the kind the engine acts on, with the provider's words kept. */
export function classifyHttpFailure(failure: HttpFailure, options: ClassifyOptions): ConnectorError {
  if (failure.status === undefined) {
    return new RetryableError(
      `Mailchimp ${options.operation}: no answer (${failure.network ?? 'network error'})`,
      {
        code: failure.network,
      },
    );
  }
  const rule = ruleFor(failure);
  const problem = failure.problem;
  const said =
    [problem?.title, problem?.detail].filter(Boolean).join(': ') || failure.text?.slice(0, 200) || '';
  const fieldErrors = (problem?.errors ?? []).map((e) => `${e.field ?? '?'}: ${e.message ?? ''}`).join('; ');
  const message = [
    `Mailchimp ${options.operation} answered ${failure.status}`,
    rule?.reason,
    said,
    fieldErrors && `(${fieldErrors})`,
  ]
    .filter(Boolean)
    .join(' — ');
  const details = {
    code: problem?.title ?? `HTTP_${failure.status}`,
    status: failure.status,
    body: problem ?? failure.text,
  };
  const kind = rule?.kind === 'member_not_found' ? options.notFound : (rule?.kind ?? 'permanent');
  return errorOfKind(kind, message, details, failure.retryAfterMs ?? rule?.retryAfterMs);
}

function errorOfKind(
  kind: ErrorKind,
  message: string,
  details: { code?: string | undefined; status?: number | undefined; body?: unknown },
  retryAfterMs: number | undefined,
): ConnectorError {
  switch (kind) {
    case 'auth':
      return new AuthError(message, details);
    case 'config':
      return new ConfigError(message, details);
    case 'rate_limited':
      return new RateLimitedError(message, { ...details, retryAfterMs: retryAfterMs ?? 1000 });
    case 'retryable':
      return new RetryableError(message, { ...details, retryAfterMs });
    case 'permanent':
      return new PermanentError(message, details);
  }
}

/**
 * Batch subscribe reports member failures in `errors[]` with a sentence and a code; the
 * sentences are matched because the codes are too coarse (`ERROR_GENERIC`).
 */
interface BatchRule {
  code?: string;
  error?: RegExp;
  outcome: 'exists' | ErrorKind;
  /** The code reported for matching errors (Mailchimp's problem title for the same case). */
  reportAs?: string;
  reason?: string;
}

export const BATCH_ERROR_TABLE: readonly BatchRule[] = [
  { code: 'ERROR_CONTACT_EXISTS', outcome: 'exists' },
  { error: /is already a list member/i, outcome: 'exists' },
  {
    error: /compliance state/i,
    outcome: 'permanent',
    reportAs: 'Member In Compliance State',
    reason: 'the member unsubscribed, bounced or is under compliance review; it is not resubscribed',
  },
  {
    error: /permanently deleted/i,
    outcome: 'permanent',
    reportAs: 'Forgotten Email Not Subscribed',
    reason: 'the member was permanently deleted and can only come back by signing up again',
  },
  { error: /signed up to a lot of lists very recently/i, outcome: 'retryable', reportAs: 'Invalid Resource' },
];

export type BatchErrorOutcome = { outcome: 'exists' } | { outcome: 'error'; error: ConnectorError };

export function classifyBatchError(entry: BatchSubscribeError): BatchErrorOutcome {
  const rule = BATCH_ERROR_TABLE.find(
    (r) =>
      (r.code === undefined || r.code === entry.error_code) &&
      (r.error === undefined || r.error.test(entry.error)),
  );
  if (rule?.outcome === 'exists') return { outcome: 'exists' };
  const field = entry.field ? ` (merge field ${entry.field}: ${entry.field_message ?? 'invalid'})` : '';
  const message = ['Mailchimp batch subscribe rejected the member', rule?.reason, `${entry.error}${field}`]
    .filter(Boolean)
    .join(' — ');
  const details = { code: rule?.reportAs ?? entry.error_code ?? 'ERROR_GENERIC', status: 400, body: entry };
  return {
    outcome: 'error',
    error: errorOfKind(
      rule?.outcome ?? 'permanent',
      message,
      details,
      rule?.outcome === 'retryable' ? 3_600_000 : undefined,
    ),
  };
}
