import {
  AuthError,
  ConfigError,
  type ConnectorError,
  isConnectorError,
  PermanentError,
  RateLimitedError,
  RetryableError,
} from '../errors.js';
import { DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS, networkRule, statusRule } from './error-table.js';
import type { HttpAnswer } from './http-post.js';

/** Turns a receiver's answer or a failed attempt into the engine's error kinds (error-table.ts). */

const BODY_EXCERPT = 2048;
const MESSAGE_EXCERPT = 200;

/**
 * Blanks every secret the connector holds out of text a receiver sent back: a receiver that
 * echoes the request would otherwise put an Authorization header into a dead letter. Each word
 * of a value is blanked too (`Bearer abc…` echoed as just the token).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const words = secrets.flatMap((s) => [s, ...s.split(/\s+/)]).filter((w) => w.length >= 8);
  words.sort((a, b) => b.length - a.length);
  let out = text;
  for (const word of words) out = out.split(word).join('[redacted]');
  return out;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), capped; undefined when absent. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** The answer as the error carries it: redacted, cut to 2 KB, parsed when it is JSON. */
function answerExcerpt(body: string, secrets: readonly string[]): { text: string; value: unknown } {
  const redacted = redactSecrets(body, secrets);
  if (redacted.length > BODY_EXCERPT) {
    const cut = `${redacted.slice(0, BODY_EXCERPT)}…`;
    return { text: cut, value: cut };
  }
  try {
    return { text: redacted, value: JSON.parse(redacted) };
  } catch {
    return { text: redacted, value: redacted };
  }
}

/** The error for a non-2xx answer, or null when the receiver accepted the delivery. */
export function errorForAnswer(
  answer: HttpAnswer,
  target: string,
  secrets: readonly string[],
): ConnectorError | null {
  const rule = statusRule(answer.status);
  if (rule.kind === 'ok') return null;
  const body = answerExcerpt(answer.body, secrets);
  const said = body.text === '' ? '' : `: ${body.text.slice(0, MESSAGE_EXCERPT)}`;
  const message = `webhook ${target} answered ${answer.status} ${answer.statusText} (${rule.why})${said}`;
  const details = { status: answer.status, code: `HTTP_${answer.status}`, body: body.value };
  const retryAfter = retryAfterMs(answer.headers['retry-after']);
  switch (rule.kind) {
    case 'rate_limited':
      return new RateLimitedError(message, {
        ...details,
        retryAfterMs: retryAfter ?? DEFAULT_RETRY_AFTER_MS,
      });
    case 'retryable':
      return new RetryableError(message, { ...details, retryAfterMs: retryAfter });
    case 'auth':
      return new AuthError(message, details);
    case 'config':
      return new ConfigError(message, details);
    case 'permanent':
      return new PermanentError(message, details);
  }
}

/** The error for an attempt that got no answer (network, TLS, timeout, the SSRF guard). */
export function errorForFailure(error: unknown, target: string): ConnectorError {
  if (isConnectorError(error)) return error; // the SSRF guard's ConfigError, already classified
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const rule = networkRule(code);
  const detail = error instanceof Error ? error.message : String(error);
  const message = `webhook ${target} could not be reached (${rule.why}): ${detail}`;
  const details = { code: code ?? 'NETWORK', cause: error };
  return rule.kind === 'config' ? new ConfigError(message, details) : new RetryableError(message, details);
}
