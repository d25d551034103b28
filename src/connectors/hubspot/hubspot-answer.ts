import { z } from 'zod';
import {
  AuthError,
  ConfigError,
  type ConnectorError,
  PermanentError,
  RateLimitedError,
  RetryableError,
} from '../errors.js';
import { kindFor } from './error-table.js';
import { msUntilNextMidnight } from './quota-clock.js';

/** What HubSpot answered to one request, captured before the SDK deserialises (and trims) it. */
export interface HubSpotAnswer {
  status: number;
  /** Lower-cased header names, as the SDK's fetch layer gives them. */
  headers: Record<string, string>;
  text: string;
}

/**
 * HubSpot's error body (`Error` in its OpenAPI documents) plus the rate-limit fields of a 429
 * (`policyName`, `errorType`), which the SDK's own model drops.
 */
export const HubSpotErrorBody = z.looseObject({
  status: z.string().optional(),
  message: z.string().optional(),
  category: z.string().optional(),
  subCategory: z.string().optional(),
  correlationId: z.string().optional(),
  policyName: z.string().optional(),
  errorType: z.string().optional(),
  context: z.record(z.string(), z.array(z.string())).optional(),
  errors: z
    .array(
      z.looseObject({
        message: z.string(),
        code: z.string().optional(),
        in: z.string().optional(),
        subCategory: z.string().optional(),
        context: z.record(z.string(), z.array(z.string())).optional(),
      }),
    )
    .optional(),
});
export type HubSpotErrorBody = z.infer<typeof HubSpotErrorBody>;

export function parseErrorBody(text: string): HubSpotErrorBody | null {
  try {
    const parsed = HubSpotErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Removes every occurrence of the secrets (and anything shaped like a bearer token) from text. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out.replace(/Bearer\s+[\w.~+/=-]+/gi, 'Bearer [redacted]').replace(/\bpat-[\w-]+/g, '[redacted]');
}

export interface ClassifyOptions {
  timeZone: string;
  secrets: readonly string[];
  now?: Date;
  /** What was being done, for the message (`contacts batch upsert`). */
  what: string;
}

/**
 * One HubSpot error answer → one error kind the engine understands (see error-table.ts). The
 * message names the operation, HubSpot's category and its own words; the body is kept, redacted.
 */
export function classifyAnswer(answer: HubSpotAnswer, options: ClassifyOptions): ConnectorError {
  const body = parseErrorBody(answer.text);
  const category = body?.category ?? body?.errorType;
  const kind = kindFor(answer.status, category);
  const said = redact(body?.message ?? (answer.text.slice(0, 300) || 'no body'), options.secrets);
  const message = `HubSpot ${options.what}: ${answer.status}${category ? ` ${category}` : ''}: ${said}`;
  const details = {
    status: answer.status,
    code: category ?? String(answer.status),
    body: body
      ? JSON.parse(redact(JSON.stringify(body), options.secrets))
      : redact(answer.text.slice(0, 2000), options.secrets),
  };
  switch (kind) {
    case 'rate_limited':
      return rateLimited(answer, body, message, details, options);
    case 'auth': {
      const scopes =
        body?.context?.requiredGranularScopes ??
        body?.errors?.flatMap((e) => e.context?.requiredGranularScopes ?? []);
      const hint = scopes && scopes.length > 0 ? ` (missing scopes: ${scopes.join(', ')})` : '';
      return new AuthError(`${message}${hint}`, details);
    }
    case 'config':
      return new ConfigError(message, details);
    case 'permanent':
      return new PermanentError(message, details);
    case 'retryable':
      return new RetryableError(message, { ...details, retryAfterMs: retryAfterHeaderMs(answer.headers) });
  }
}

function rateLimited(
  answer: HubSpotAnswer,
  body: HubSpotErrorBody | null,
  message: string,
  details: { status: number; code: string; body: unknown },
  options: ClassifyOptions,
): RateLimitedError {
  const now = options.now ?? new Date();
  if (body?.policyName === 'DAILY' || answer.headers['x-hubspot-ratelimit-daily-remaining'] === '0') {
    return new RateLimitedError(`${message} (daily quota: paused until midnight ${options.timeZone})`, {
      ...details,
      code: 'DAILY',
      scope: 'daily',
      retryAfterMs: msUntilNextMidnight(now, options.timeZone),
    });
  }
  // The search API's per-second limit answers "You have reached your secondly limit."
  const secondly = body?.policyName === 'SECONDLY' || /secondly limit/i.test(body?.message ?? '');
  const fallback = secondly ? 1000 : (intervalMs(answer.headers) ?? 10_000);
  return new RateLimitedError(message, {
    ...details,
    code: body?.policyName ?? details.code,
    scope: 'window',
    retryAfterMs: retryAfterHeaderMs(answer.headers) ?? fallback,
  });
}

/** Retry-After in seconds (or an HTTP date); HubSpot's CRM 429s may or may not carry it. */
export function retryAfterHeaderMs(headers: Record<string, string>): number | undefined {
  const raw = headers['retry-after'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function intervalMs(headers: Record<string, string>): number | undefined {
  const raw = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
  return Number.isFinite(raw) && raw > 0 ? raw : undefined;
}

/** The daily quota from a response's headers (absent for OAuth apps). */
export function dailyQuotaOf(
  headers: Record<string, string>,
): { dailyMax: number; dailyRemaining: number } | null {
  const max = Number(headers['x-hubspot-ratelimit-daily']);
  const remaining = Number(headers['x-hubspot-ratelimit-daily-remaining']);
  if (!headers['x-hubspot-ratelimit-daily'] || !Number.isFinite(max) || !Number.isFinite(remaining))
    return null;
  return { dailyMax: max, dailyRemaining: remaining };
}

/**
 * A successful answer the code relies on, checked against what it needs (the SDK deserialises
 * without checking). One HubSpot does not answer as documented is retried: it is HubSpot
 * misbehaving, not the record. The message names the field, never a value.
 */
export function parseAnswer<T extends z.ZodType>(schema: T, data: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new RetryableError(
    `HubSpot ${what}: unexpected answer (${issue?.path.join('.') || 'body'}: ${issue?.code ?? 'invalid'})`,
    { code: 'UNREADABLE_ANSWER' },
  );
}

/** The HubSpot error body a classified error carries, when it has one. */
export function errorBodyOf(error: { body: unknown }): HubSpotErrorBody | null {
  const parsed = HubSpotErrorBody.safeParse(error.body);
  return parsed.success ? parsed.data : null;
}
