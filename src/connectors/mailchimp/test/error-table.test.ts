import { describe, expect, it } from 'vitest';
import { classifyBatchError, classifyHttpFailure, type HttpFailure } from '../error-table.js';

const failure = (input: Partial<HttpFailure>): HttpFailure => ({
  status: undefined,
  problem: undefined,
  text: undefined,
  retryAfterMs: undefined,
  network: undefined,
  ...input,
});
const asMember = { operation: 'PUT member', notFound: 'retryable' } as const;

describe('the Mailchimp error table', () => {
  it('makes compliance answers permanent, with a reason an admin understands', () => {
    const error = classifyHttpFailure(
      failure({
        status: 400,
        problem: { title: 'Member In Compliance State', detail: 'x is in compliance state', status: 400 },
      }),
      asMember,
    );
    expect(error.kind).toBe('permanent');
    expect(error.code).toBe('Member In Compliance State');
    expect(error.message).toContain('does not let a sync resubscribe them');
  });

  it('makes permanently deleted addresses permanent', () => {
    const error = classifyHttpFailure(
      failure({ status: 400, problem: { title: 'Forgotten Email Not Subscribed' } }),
      asMember,
    );
    expect(error.kind).toBe('permanent');
  });

  it('retries “signed up to a lot of lists” later instead of failing the record', () => {
    const error = classifyHttpFailure(
      failure({
        status: 400,
        problem: { title: 'Invalid Resource', detail: 'x has signed up to a lot of lists very recently' },
      }),
      asMember,
    );
    expect(error.kind).toBe('retryable');
  });

  it('reads 401 as auth, 429 and the HTML 403 as rate limits, 5xx as retryable', () => {
    expect(
      classifyHttpFailure(failure({ status: 401, problem: { title: 'API Key Invalid' } }), asMember).kind,
    ).toBe('auth');
    const limited = classifyHttpFailure(
      failure({ status: 429, problem: { title: 'Too Many Requests' }, retryAfterMs: 4000 }),
      asMember,
    );
    expect(limited).toMatchObject({ kind: 'rate_limited', retryAfterMs: 4000 });
    expect(classifyHttpFailure(failure({ status: 403, text: '<html>' }), asMember).kind).toBe('rate_limited');
    expect(
      classifyHttpFailure(failure({ status: 403, problem: { title: 'User Disabled' } }), asMember).kind,
    ).toBe('auth');
    expect(classifyHttpFailure(failure({ status: 503 }), asMember).kind).toBe('retryable');
    expect(classifyHttpFailure(failure({ network: 'ECONNRESET' }), asMember)).toMatchObject({
      kind: 'retryable',
      code: 'ECONNRESET',
    });
  });

  it('reads a 404 by what the call addressed: the audience is config, a member per the caller', () => {
    expect(
      classifyHttpFailure(failure({ status: 404 }), { operation: 'GET audience', notFound: 'config' }).kind,
    ).toBe('config');
    expect(classifyHttpFailure(failure({ status: 404 }), asMember).kind).toBe('retryable');
  });

  it('tells an existing member apart from a rejected one in batch subscribe errors', () => {
    expect(
      classifyBatchError({
        email_address: 'a@x.com',
        error: 'a@x.com is already a list member',
        error_code: 'ERROR_CONTACT_EXISTS',
      }),
    ).toEqual({
      outcome: 'exists',
    });
    const rejected = classifyBatchError({
      email_address: 'b@x.com',
      error: 'Your merge fields were invalid.',
      error_code: 'ERROR_GENERIC',
      field: 'BDAY',
      field_message: 'Please enter a date',
    });
    expect(rejected.outcome === 'error' && rejected.error.kind).toBe('permanent');
    expect(rejected.outcome === 'error' && rejected.error.message).toContain(
      'merge field BDAY: Please enter a date',
    );
  });
});
