import type { ConnectorError } from '../errors.js';

/** Connections that were never made: the request did not reach Mailchimp. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether a failed request may still have been carried out at Mailchimp, so that sending it
 * again could do it twice: it left, and no answer said it was refused. Not a 4xx (a 429
 * included: a refusal), nor a request that never left (no rate-limit slot in time, the worker
 * shutting down: `notSent`), nor one whose connection was never made.
 */
export function mayHaveApplied(error: unknown): boolean {
  const { status, code, notSent } = error as Partial<ConnectorError> & { notSent?: boolean };
  if (notSent) return false;
  if (status !== undefined) return status < 400 || status >= 500;
  return !NEVER_CONNECTED.has(code ?? '');
}
