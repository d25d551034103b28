import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactString } from '../../src/store/redact.js';

describe('redact', () => {
  it('blanks secret keys at any depth, whatever their spelling', () => {
    const input = {
      email: 'ada@example.com',
      credentials: { accessToken: 'pat-1' },
      request: { headers: { Authorization: 'Bearer x', 'X-Api-Key': 'k' } },
      settings: [{ api_key: 'k2', signingSecret: 's', password: 'p', token: 't', name: 'kept' }],
    };
    expect(redact(input)).toEqual({
      email: 'ada@example.com',
      credentials: REDACTED,
      request: { headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED } },
      settings: [
        { api_key: REDACTED, signingSecret: REDACTED, password: REDACTED, token: REDACTED, name: 'kept' },
      ],
    });
  });

  it('leaves its input untouched', () => {
    const input = { apiKey: 'k', nested: { secret: 's' } };
    redact(input);
    expect(input).toEqual({ apiKey: 'k', nested: { secret: 's' } });
  });

  it('blanks bearer and basic credentials and URL passwords inside strings', () => {
    expect(redactString('401 for Authorization: Bearer eyJhbGciOi.J9.x-y_z')).toBe(
      `401 for Authorization: Bearer ${REDACTED}`,
    );
    expect(redactString('sent basic dXNlcjpwYXNz=')).toBe(`sent basic ${REDACTED}`);
    expect(redactString('connect postgres://crm:hunter2@db:5432/crm failed')).toBe(
      `connect postgres://crm:${REDACTED}@db:5432/crm failed`,
    );
  });

  it('keeps nulls under secret keys, dates, and shared references, and survives cycles', () => {
    const when = new Date('2026-11-22T10:30:00Z');
    const shared = { a: 1 };
    const cyclic: Record<string, unknown> = { token: null, when, left: shared, right: shared };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({
      token: null,
      when,
      left: { a: 1 },
      right: { a: 1 },
      self: '[circular]',
    });
  });

  it('turns errors into their name and redacted message', () => {
    expect(redact({ err: new TypeError('bad Bearer abc') })).toEqual({
      err: { name: 'TypeError', message: `bad Bearer ${REDACTED}` },
    });
  });
});
