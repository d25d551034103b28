import { describe, expect, it } from 'vitest';
import { type ConnectorError, PermanentError, RetryableError } from '../../errors.js';
import { type Settled, sendIsolating } from '../batch-isolation.js';
import { attributeFindings, existingIdOf, findingsOf } from '../validation-findings.js';

/** A fake HubSpot batch endpoint: fails the whole batch while it contains a bad item. */
function endpoint(bad: Set<number>, options: { names?: boolean } = {}) {
  const sent: number[][] = [];
  return {
    sent,
    plan: {
      async send(items: number[]): Promise<Settled<string>[]> {
        sent.push(items);
        const culprit = items.find((i) => bad.has(i));
        if (culprit !== undefined) {
          throw new PermanentError(`HubSpot test: invalid ${options.names ? culprit : 'input'}`, {
            code: 'VALIDATION_ERROR',
            body: { culprit: options.names ? culprit : undefined },
          });
        }
        return items.map((i) => ({ ok: `hs-${i}` }));
      },
      async blame(error: ConnectorError, items: number[]) {
        const culprit = (error.body as { culprit?: number }).culprit;
        const index = culprit === undefined ? -1 : items.indexOf(culprit);
        return index < 0 ? null : new Map([[index, { error } as Settled<string>]]);
      },
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('sending a batch so that one bad input does not sink the others', () => {
  it('sends a clean batch once', async () => {
    const { plan, sent } = endpoint(new Set());
    const results = await sendIsolating(range(100), plan);
    expect(sent).toHaveLength(1);
    expect(results.every((r) => 'ok' in r)).toBe(true);
  });

  it('drops the inputs the error names and resends the rest, never the same batch twice', async () => {
    const { plan, sent } = endpoint(new Set([7, 42]), { names: true });
    const results = await sendIsolating(range(100), plan);
    expect(sent.map((s) => s.length)).toEqual([100, 99, 98]);
    expect(results.filter((r) => 'error' in r).map((_, k) => k)).toHaveLength(2);
    expect('error' in (results[7] as Settled<string>) && 'error' in (results[42] as Settled<string>)).toBe(
      true,
    );
    expect(results.filter((r) => 'ok' in r)).toHaveLength(98);
  });

  it('bisects when the error does not say which input was bad', async () => {
    const { plan, sent } = endpoint(new Set([63]));
    const results = await sendIsolating(range(100), plan);
    expect(results.flatMap((r, i) => ('error' in r ? [i] : []))).toEqual([63]);
    // log2(100) ≈ 7 levels, two requests per level at most, plus the first.
    expect(sent.length).toBeLessThanOrEqual(15);
    expect(sent.some((s) => s.length === 100 && sent.indexOf(s) > 0)).toBe(false);
  });

  it('throws a failure that concerns the whole batch while nothing has landed', async () => {
    const failing = {
      send: async () => {
        throw new RetryableError('HubSpot test: 502');
      },
      blame: async () => null,
    };
    await expect(sendIsolating(range(3), failing)).rejects.toBeInstanceOf(RetryableError);
  });

  it('keeps what landed when a later request fails for everyone', async () => {
    let calls = 0;
    const plan = {
      async send(items: number[]): Promise<Settled<string>[]> {
        calls += 1;
        if (calls === 1) throw new PermanentError('bad somewhere', { code: 'VALIDATION_ERROR' });
        if (calls === 2) return items.map((i) => ({ ok: `hs-${i}` }));
        throw new RetryableError('HubSpot test: 503');
      },
      blame: async () => null,
    };
    const results = await sendIsolating(range(4), plan);
    expect(results.slice(0, 2).every((r) => 'ok' in r)).toBe(true);
    expect(results.slice(2).every((r) => 'error' in r && r.error instanceof RetryableError)).toBe(true);
  });
});

describe('reading HubSpot validation errors', () => {
  const body = {
    status: 'error',
    category: 'VALIDATION_ERROR',
    message: `Property values were not valid: ${JSON.stringify([
      { isValid: false, message: 'Email address ada@@x is invalid', error: 'INVALID_EMAIL', name: 'email' },
      {
        isValid: false,
        message: 'Property "crm_plan" does not exist',
        error: 'PROPERTY_DOESNT_EXIST',
        name: 'crm_plan',
      },
    ])}`,
  };
  const inputs: { properties: Record<string, string> }[] = [
    { properties: { email: 'bob@example.com' } },
    { properties: { email: 'ada@@x' } },
    { properties: { email: 'eve@example.com', crm_plan: 'pro' } },
  ];

  it('finds the property, code and message of each problem', () => {
    expect(findingsOf(body)).toEqual([
      { property: 'email', code: 'INVALID_EMAIL', message: 'Email address ada@@x is invalid' },
      { property: 'crm_plan', code: 'PROPERTY_DOESNT_EXIST', message: 'Property "crm_plan" does not exist' },
    ]);
  });

  it('blames the input whose value the message quotes, and every input setting an unknown property', () => {
    const blamed = attributeFindings(findingsOf(body), inputs);
    expect([...(blamed?.keys() ?? [])].sort()).toEqual([1, 2]);
    expect(blamed?.get(1)?.code).toBe('INVALID_EMAIL');
  });

  it('gives up (so the caller bisects) when a problem matches no input', () => {
    const other = {
      message: `Property values were not valid: ${JSON.stringify([{ name: 'phone', error: 'INVALID', message: 'x' }])}`,
    };
    expect(attributeFindings(findingsOf(other), inputs)).toBeNull();
    expect(
      attributeFindings(findingsOf({ message: 'Some of the inputs were not valid' }), inputs),
    ).toBeNull();
  });

  it('reads the existing id out of a CONFLICT', () => {
    expect(
      existingIdOf({ message: 'Contact already exists. Existing ID: 12345', category: 'CONFLICT' }),
    ).toBe('12345');
    expect(existingIdOf({ message: 'Something else' })).toBeNull();
  });
});
