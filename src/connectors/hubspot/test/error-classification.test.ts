import { describe, expect, it } from 'vitest';
import { AuthError, PermanentError, RateLimitedError, RetryableError } from '../../errors.js';
import { kindFor } from '../error-table.js';
import { classifyAnswer, dailyQuotaOf, type HubSpotAnswer, redact } from '../hubspot-answer.js';
import { nextMidnight } from '../quota-clock.js';
import { TOKEN } from './fixtures.js';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): HubSpotAnswer => ({
  status,
  headers,
  text: typeof body === 'string' ? body : JSON.stringify(body),
});
const classify = (a: HubSpotAnswer, now = new Date('2026-11-22T10:00:00Z'), timeZone = 'UTC') =>
  classifyAnswer(a, { what: 'contacts batch upsert', timeZone, secrets: [TOKEN], now });

describe('the HubSpot error table', () => {
  it.each([
    [401, undefined, 'auth'],
    [403, 'MISSING_SCOPES', 'auth'],
    [429, 'RATE_LIMITS', 'rate_limited'],
    [500, undefined, 'retryable'],
    [502, undefined, 'retryable'],
    [423, undefined, 'retryable'],
    [400, 'VALIDATION_ERROR', 'permanent'],
    [409, 'CONFLICT', 'permanent'],
    [404, 'OBJECT_NOT_FOUND', 'permanent'],
    [undefined, undefined, 'retryable'],
  ] as const)('classifies status %s with category %s as %s', (status, category, kind) => {
    expect(kindFor(status, category)).toBe(kind);
  });
});

describe('classifying HubSpot answers', () => {
  it('turns a VALIDATION_ERROR into a permanent error carrying the category, status and message', () => {
    const error = classify(
      answer(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'Email address x is invalid' }),
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect(error.message).toBe(
      'HubSpot contacts batch upsert: 400 VALIDATION_ERROR: Email address x is invalid',
    );
  });

  it('names the missing scopes of a 403', () => {
    const error = classify(
      answer(403, {
        status: 'error',
        category: 'MISSING_SCOPES',
        message: "This app hasn't been granted all required scopes",
        errors: [{ message: 'missing', context: { requiredGranularScopes: ['crm.objects.contacts.write'] } }],
      }),
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('missing scopes: crm.objects.contacts.write');
  });

  it('waits out the rolling window after a TEN_SECONDLY_ROLLING 429 without Retry-After', () => {
    const error = classify(
      answer(429, {
        status: 'error',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        message: 'You have reached your ten_secondly_rolling limit.',
      }),
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ scope: 'window', retryAfterMs: 10_000, code: 'TEN_SECONDLY_ROLLING' });
  });

  it('honours Retry-After on a 429 when HubSpot sends it', () => {
    const error = classify(
      answer(429, { policyName: 'TEN_SECONDLY_ROLLING', message: 'limit' }, { 'retry-after': '3' }),
    );
    expect(error).toMatchObject({ scope: 'window', retryAfterMs: 3000 });
  });

  it('backs off one second after the search API secondly limit', () => {
    const error = classify(
      answer(429, {
        status: 'error',
        message: 'You have reached your secondly limit.',
        errorType: 'RATE_LIMIT',
      }),
    );
    expect(error).toMatchObject({ scope: 'window', retryAfterMs: 1000 });
  });

  it('pauses until midnight in the account time zone after a DAILY 429', () => {
    const now = new Date('2026-11-22T22:30:00Z');
    const error = classify(
      answer(429, { policyName: 'DAILY', message: 'You have reached your daily limit.' }),
      now,
      'Europe/Berlin',
    );
    expect(error).toMatchObject({ scope: 'daily', code: 'DAILY' });
    // Midnight in Berlin (UTC+1 in November) is 23:00 UTC: 30 minutes away.
    expect((error as RateLimitedError).retryAfterMs).toBe(30 * 60_000);
    expect(error.message).toContain('paused until midnight Europe/Berlin');
  });

  it('retries 5xx answers, including ones without a JSON body', () => {
    const error = classify(answer(502, '<html>Bad gateway</html>'));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toBe('HubSpot contacts batch upsert: 502: <html>Bad gateway</html>');
  });

  it('never lets the access token through, in the message or the body', () => {
    const error = classify(
      answer(400, {
        category: 'VALIDATION_ERROR',
        message: `token ${TOKEN} rejected`,
        context: { token: [TOKEN] },
      }),
    );
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error.body)).not.toContain(TOKEN);
    expect(redact(`Authorization: Bearer abc.def`, [])).toBe('Authorization: Bearer [redacted]');
  });
});

describe('the daily quota', () => {
  it('is read from the X-HubSpot-RateLimit-Daily headers', () => {
    expect(
      dailyQuotaOf({ 'x-hubspot-ratelimit-daily': '250000', 'x-hubspot-ratelimit-daily-remaining': '1200' }),
    ).toEqual({
      dailyMax: 250_000,
      dailyRemaining: 1200,
    });
    expect(dailyQuotaOf({})).toBeNull();
  });

  it('resets at the next local midnight, across a daylight-saving change', () => {
    expect(nextMidnight(new Date('2026-11-22T10:00:00Z'), 'UTC').toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(nextMidnight(new Date('2026-03-28T12:00:00Z'), 'Europe/Berlin').toISOString()).toBe(
      '2026-03-28T23:00:00.000Z',
    );
    // Berlin switches to summer time on 29 March: the next midnight is at UTC+2.
    expect(nextMidnight(new Date('2026-03-29T12:00:00Z'), 'Europe/Berlin').toISOString()).toBe(
      '2026-03-29T22:00:00.000Z',
    );
    expect(nextMidnight(new Date('2026-11-22T10:00:00Z'), 'America/New_York').toISOString()).toBe(
      '2026-11-23T05:00:00.000Z',
    );
  });
});
