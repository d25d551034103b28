/**
 * The error kinds the engine understands. Connectors classify provider answers into these once,
 * at their edge; the engine decides what to do from the kind alone (retry, dead-letter, pause),
 * never from a message string.
 */
export type ErrorKind = 'retryable' | 'rate_limited' | 'permanent' | 'auth' | 'config';

export interface ProviderErrorDetails {
  /** The provider's own code or category (`VALIDATION_ERROR`, `Member In Compliance State`). */
  code?: string | undefined;
  /** HTTP status of the provider's answer, when there was one. */
  status?: number | undefined;
  /** The provider's answer body, already redacted of secrets. */
  body?: unknown;
  cause?: unknown;
}

export abstract class ConnectorError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly body: unknown;

  constructor(message: string, details: ProviderErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.status = details.status;
    this.body = details.body;
  }
}

/** Network failures, timeouts, 5xx: try again later with backoff. */
export class RetryableError extends ConnectorError {
  readonly kind = 'retryable' as const;
  readonly retryAfterMs: number | undefined;
  /**
   * The request never left for the provider (no rate-limit slot in time, the worker shutting
   * down): nothing of it can have been carried out there.
   */
  readonly notSent: boolean;
  constructor(
    message: string,
    details: ProviderErrorDetails & { retryAfterMs?: number | undefined; notSent?: boolean } = {},
  ) {
    super(message, details);
    this.retryAfterMs = details.retryAfterMs;
    this.notSent = details.notSent ?? false;
  }
}

/** 429: the account's limiter pauses for `retryAfterMs` in every process, then the request is retried. */
export class RateLimitedError extends ConnectorError {
  readonly kind = 'rate_limited' as const;
  readonly retryAfterMs: number;
  /** `daily` limits pause the integration until the reset instead of backing off briefly. */
  readonly scope: 'window' | 'daily';
  constructor(
    message: string,
    details: ProviderErrorDetails & { retryAfterMs: number; scope?: 'window' | 'daily' },
  ) {
    super(message, details);
    this.retryAfterMs = details.retryAfterMs;
    this.scope = details.scope ?? 'window';
  }
}

/** The record itself is wrong (validation, conflict, compliance): dead-letter at once, never retry. */
export class PermanentError extends ConnectorError {
  readonly kind = 'permanent' as const;
}

/** Credentials rejected or revoked: pause the integration instead of failing every job. */
export class AuthError extends ConnectorError {
  readonly kind = 'auth' as const;
}

/** The integration's configuration cannot work (unknown list, bad setting): pause and say why. */
export class ConfigError extends ConnectorError {
  readonly kind = 'config' as const;
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}

/**
 * Anything a connector threw that it did not classify is treated as retryable: an unknown
 * failure should get a second chance, and exhausting retries still dead-letters it.
 */
export function classifyUnknown(error: unknown): ConnectorError {
  if (isConnectorError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RetryableError(message, { cause: error });
}

/** Every concrete kind: narrows by `kind` in a switch. */
export type ClassifiedError = RetryableError | RateLimitedError | PermanentError | AuthError | ConfigError;

export function asClassified(error: ConnectorError): ClassifiedError {
  return error as ClassifiedError;
}
