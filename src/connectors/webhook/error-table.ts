import type { ErrorKind } from '../errors.js';

/**
 * How a receiver's answer or a network failure is classified (status or error code → kind).
 * The engine acts on the kind: retryable and rate_limited are retried with backoff, permanent
 * dead-letters the record at once, auth and config pause the integration and say why.
 */
export interface StatusRule {
  kind: ErrorKind | 'ok';
  why: string;
}

/** Exact statuses first; a status not listed falls back to its class (`2xx`, `4xx`, …). */
export const STATUS_TABLE: Record<string, StatusRule> = {
  '2xx': { kind: 'ok', why: 'delivered' },
  // node:http never follows redirects; following one could lead past the SSRF guard.
  '3xx': { kind: 'config', why: 'the endpoint redirects; redirects are not followed, set the final URL' },
  '401': { kind: 'auth', why: 'the receiver rejected the signature or credentials' },
  '403': { kind: 'auth', why: 'the receiver rejected the signature or credentials' },
  '408': { kind: 'retryable', why: 'the receiver timed out reading the request' },
  // Gone is a receiver's way to say "stop sending" (several webhook senders disable the endpoint).
  '410': { kind: 'config', why: 'the endpoint is gone' },
  '425': { kind: 'retryable', why: 'the receiver asked to retry later' },
  '429': { kind: 'rate_limited', why: 'the receiver is rate limiting' },
  '4xx': { kind: 'permanent', why: 'the receiver refused this delivery' },
  '5xx': { kind: 'retryable', why: 'the receiver failed' },
};

export function statusRule(status: number): StatusRule {
  const exact = STATUS_TABLE[String(status)];
  if (exact) return exact;
  const family = STATUS_TABLE[`${Math.floor(status / 100)}xx`];
  return family ?? { kind: 'permanent', why: `unexpected HTTP status ${status}` };
}

/**
 * Network and TLS failures, by node's error code. Unlisted codes are retryable: an unknown
 * failure deserves another attempt, and exhausting retries still dead-letters it.
 */
export const NETWORK_TABLE: Record<string, StatusRule> = {
  TIMEOUT: { kind: 'retryable', why: 'no answer within timeoutMs' },
  ECONNREFUSED: { kind: 'retryable', why: 'connection refused' },
  ECONNRESET: { kind: 'retryable', why: 'connection reset' },
  EPIPE: { kind: 'retryable', why: 'connection closed while sending' },
  ETIMEDOUT: { kind: 'retryable', why: 'connection timed out' },
  EHOSTUNREACH: { kind: 'retryable', why: 'host unreachable' },
  ENETUNREACH: { kind: 'retryable', why: 'network unreachable' },
  EAI_AGAIN: { kind: 'retryable', why: 'DNS lookup failed temporarily' },
  // A name that does not resolve is usually a typo, but also a DNS outage: retry, and let
  // exhausted retries dead-letter; `check()` reports it to the admin straight away.
  ENOTFOUND: { kind: 'retryable', why: 'the host name does not resolve' },
  // Certificate problems will not fix themselves between retries: the admin must act.
  CERT_HAS_EXPIRED: { kind: 'config', why: 'the receiver’s TLS certificate has expired' },
  DEPTH_ZERO_SELF_SIGNED_CERT: { kind: 'config', why: 'the receiver’s TLS certificate is self-signed' },
  SELF_SIGNED_CERT_IN_CHAIN: { kind: 'config', why: 'the receiver’s TLS chain is self-signed' },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
    kind: 'config',
    why: 'the receiver’s TLS certificate cannot be verified',
  },
  ERR_TLS_CERT_ALTNAME_INVALID: { kind: 'config', why: 'the receiver’s TLS certificate is for another host' },
};

export function networkRule(code: string | undefined): StatusRule {
  return (code && NETWORK_TABLE[code]) || { kind: 'retryable', why: 'network error' };
}

/** Retry-After when a 429 carries none: long enough not to hammer, short enough to recover. */
export const DEFAULT_RETRY_AFTER_MS = 5_000;
/** A Retry-After beyond this is treated as this: one receiver must not stall an integration for days. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;
