import { describe, expect, it } from 'vitest';
import { compileEntityMapping } from '../../src/mappings/compile.js';
import type { TransformStep } from '../../src/mappings/schema.js';
import { listTransforms } from '../../src/mappings/transforms/registry.js';

/** Each transform through the public API: one field `v` → `out` with the step under test. */
const MISSING = Symbol('missing');
const rejected = (pattern: RegExp) => ({ rejected: pattern });
type Expected = unknown;

function pushThrough(step: TransformStep, input: unknown) {
  const mapping = compileEntityMapping({ fields: [{ source: 'v', target: 'out', transform: [step] }] });
  const snapshot = input === MISSING ? {} : { v: input };
  return mapping.push(snapshot);
}

function pullThrough(step: TransformStep, providerValue: unknown) {
  const mapping = compileEntityMapping({
    fields: [{ source: 'properties.v', target: 'out', direction: 'pull', transform: [step] }],
  });
  return mapping.pull({ out: providerValue });
}

function expectOutcome(
  result: {
    payload?: Record<string, unknown>;
    values?: Record<string, unknown>;
    issues: { message: string }[];
  },
  key: string,
  expected: Expected,
) {
  const out = result.payload ?? result.values ?? {};
  if (expected === MISSING) {
    expect(out).not.toHaveProperty([key]);
    expect(result.issues).toEqual([]);
  } else if (typeof expected === 'object' && expected !== null && 'rejected' in expected) {
    expect(out).not.toHaveProperty([key]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.message).toMatch((expected as { rejected: RegExp }).rejected);
  } else {
    expect(result.issues).toEqual([]);
    expect(out[key]).toEqual(expected);
  }
}

const date = new Date('2026-11-22T10:30:00.000Z');

describe('transforms on push', () => {
  it.each<[string, TransformStep, unknown, Expected]>([
    ['trim removes surrounding whitespace', 'trim', '  Ada \n', 'Ada'],
    ['trim works on each element of a list', 'trim', [' a', 'b '], ['a', 'b']],
    ['trim leaves a number alone', 'trim', 42, 42],
    ['lowercase lower-cases text', 'lowercase', 'ADA@Example.COM', 'ada@example.com'],
    ['lowercase works on each element of a list', 'lowercase', ['VIP', 'Gold'], ['vip', 'gold']],
    ['lowercase leaves a boolean alone', 'lowercase', true, true],
    ['uppercase upper-cases text', 'uppercase', 'lead', 'LEAD'],
    ['truncate cuts long text', { truncate: 3 }, 'abcdef', 'abc'],
    ['truncate keeps short text', { truncate: 10 }, 'abc', 'abc'],
    ['truncate never splits an emoji', { truncate: 2 }, 'a😀b', 'a😀'],
    ['truncate works on each element', { truncate: 1 }, ['ab', 'cd'], ['a', 'c']],
    ['email trims and lower-cases an address', 'email', '  Ada@Example.COM ', 'ada@example.com'],
    [
      'email rejects text that is not an address',
      'email',
      'not-an-email',
      rejected(/"not-an-email" is not an email address/),
    ],
    ['email rejects a number', 'email', 12, rejected(/12 is not an email address/)],
    ['string turns a number into text', 'string', 12.5, '12.5'],
    ['string turns a boolean into text', 'string', false, 'false'],
    ['string keeps text', 'string', 'x', 'x'],
    ['string writes a Date as ISO 8601', 'string', date, '2026-11-22T10:30:00.000Z'],
    ['string works on each element', 'string', [1, true], ['1', 'true']],
    ['string rejects an object', 'string', { a: 1 }, rejected(/an object cannot be turned into text/)],
    ['number parses numeric text', 'number', ' 12.50 ', 12.5],
    ['number parses exponents and signs', 'number', '-1e3', -1000],
    ['number keeps a number', 'number', 7, 7],
    ['number rejects words', 'number', 'twelve', rejected(/"twelve" is not a number/)],
    ['number rejects hex that Number() would accept', 'number', '0x10', rejected(/is not a number/)],
    ['number rejects empty text rather than reading it as 0', 'number', '', rejected(/"" is not a number/)],
    ['number rejects a boolean', 'number', true, rejected(/true is not a number/)],
    [
      'number names the bad element of a list',
      'number',
      ['1', 'x'],
      rejected(/element \[1\]: "x" is not a number/),
    ],
    ['integer rounds to the nearest whole number', 'integer', '12.5', 13],
    ['integer rounds halves away from zero', 'integer', -2.5, -3],
    ['integer rejects words', 'integer', 'many', rejected(/not a number/)],
    ['round rounds to whole numbers by default', 'round', 2.4, 2],
    ['round rounds to the given decimals without binary error', { round: 2 }, 1.005, 1.01],
    ['round reads numeric text', { round: 1 }, '3.14159', 3.1],
    ['round rejects words', { round: 1 }, 'pi', rejected(/"pi" is not a number/)],
    ['boolean keeps a boolean', 'boolean', false, false],
    ['boolean reads yes', 'boolean', 'Yes', true],
    ['boolean reads off', 'boolean', ' off ', false],
    ['boolean reads 1 and 0', 'boolean', 0, false],
    ['boolean rejects other numbers', 'boolean', 2, rejected(/2 is not a boolean/)],
    ['boolean rejects other words', 'boolean', 'maybe', rejected(/"maybe" is not a boolean/)],
    ['date gives the UTC day of an instant', 'date', '2026-11-22T10:30:00Z', '2026-11-22'],
    ['date uses the UTC day across an offset', 'date', '2026-11-22T23:30:00-05:00', '2026-11-23'],
    ['date keeps a date-only value', 'date', '2026-11-22', '2026-11-22'],
    ['date reads a Date', 'date', date, '2026-11-22'],
    ['date reads epoch milliseconds', 'date', Date.UTC(2026, 10, 22, 10, 30), '2026-11-22'],
    [
      'date gives epoch ms of midnight UTC on request',
      { date: 'epoch_ms' },
      '2026-11-22T10:30:00Z',
      Date.UTC(2026, 10, 22),
    ],
    [
      'date gives midnight UTC before 1970 too',
      { date: 'epoch_ms' },
      '1969-12-31T12:00:00Z',
      Date.UTC(1969, 11, 31),
    ],
    ['date rejects a day that does not exist', 'date', '2026-02-30', rejected(/"2026-02-30" is not a date/)],
    ['date rejects US-style dates', 'date', '11/22/2026', rejected(/is not a date/)],
    ['date rejects words', 'date', 'yesterday', rejected(/"yesterday" is not a date/)],
    ['datetime writes ISO 8601 UTC', 'datetime', '2026-11-22T11:30:00+01:00', '2026-11-22T10:30:00.000Z'],
    [
      'datetime reads a time without offset as UTC',
      'datetime',
      '2026-11-22T10:30',
      '2026-11-22T10:30:00.000Z',
    ],
    ['datetime reads a date as its midnight UTC', 'datetime', '2026-11-22', '2026-11-22T00:00:00.000Z'],
    [
      'datetime gives epoch ms on request',
      { datetime: 'epoch_ms' },
      '2026-11-22T10:30:00.000Z',
      date.getTime(),
    ],
    ['datetime reads epoch ms text', 'datetime', String(date.getTime()), '2026-11-22T10:30:00.000Z'],
    ['datetime rejects an hour 24', 'datetime', '2026-11-22T24:00:00Z', rejected(/is not a date and time/)],
    [
      'datetime rejects an invalid Date',
      'datetime',
      new Date('nope'),
      rejected(/an invalid date is not a date and time/),
    ],
    ['join joins a list', { join: ';' }, ['vip', 'gold'], 'vip;gold'],
    ['join skips null elements', { join: ', ' }, ['a', null, 'b'], 'a, b'],
    ['join writes numbers and booleans as text', { join: '|' }, [1, true], '1|true'],
    ['join gives "" for an empty list', { join: ';' }, [], ''],
    ['join leaves a non-list alone', { join: ';' }, 'solo', 'solo'],
    [
      'join rejects an object element',
      { join: ';' },
      ['a', { b: 1 }],
      rejected(/element \[1\] is an object/),
    ],
    ['split splits and trims text', { split: ';' }, ' a; b ;;c', ['a', 'b', 'c']],
    ['split leaves a list alone', { split: ';' }, ['a;b'], ['a;b']],
    ['default fills a missing value', { default: 'n/a' }, MISSING, 'n/a'],
    ['default fills null', { default: 0 }, null, 0],
    ['default fills empty text', { default: 'n/a' }, '', 'n/a'],
    ['default keeps a present value', { default: 'n/a' }, 'x', 'x'],
    ['default may be null, which is then sent', { default: null }, MISSING, null],
    ['nullIfEmpty turns whitespace into null', 'nullIfEmpty', '  ', null],
    ['nullIfEmpty turns an empty list into null', 'nullIfEmpty', [], null],
    ['nullIfEmpty keeps text', 'nullIfEmpty', 'x', 'x'],
    ['a missing value passes every other transform untouched', 'number', MISSING, MISSING],
  ])('%s', (_name, step, input, expected) => {
    expectOutcome(pushThrough(step, input), 'out', expected);
  });

  it('covers every registered transform in this table', () => {
    // Keeps the table honest: a new transform without a test fails here.
    const tested = new Set([
      'trim',
      'lowercase',
      'uppercase',
      'truncate',
      'email',
      'string',
      'number',
      'integer',
      'round',
      'boolean',
      'date',
      'datetime',
      'join',
      'split',
      'default',
      'nullIfEmpty',
    ]);
    expect(
      listTransforms()
        .map((t) => t.name)
        .sort(),
    ).toEqual([...tested].sort());
  });

  it('runs steps in order', () => {
    const mapping = compileEntityMapping({
      fields: [{ source: 'v', target: 'out', transform: ['trim', { split: ',' }, 'number', { join: '+' }] }],
    });
    expect(mapping.push({ v: ' 1, 2 ,3 ' }).payload).toEqual({ out: '1+2+3' });
  });

  it('passes the whole record to transforms without letting them change it', () => {
    const snapshot = { v: ' Ada ', tags: ['a'] };
    const frozen = Object.freeze({ ...snapshot, tags: Object.freeze([...snapshot.tags]) });
    const mapping = compileEntityMapping({
      fields: [
        { source: 'v', target: 'name', transform: ['trim', 'uppercase'] },
        { source: 'tags', target: 'tags', transform: ['uppercase', { join: ';' }] },
      ],
    });
    expect(mapping.push(frozen).payload).toEqual({ name: 'ADA', tags: 'A' });
    expect(frozen).toEqual(snapshot);
  });
});

describe('transforms on pull', () => {
  it.each<[string, TransformStep, unknown, Expected]>([
    ['number turns HubSpot numeric text back into a number', 'number', '12', 12],
    ['integer rounds a pulled number', 'integer', '12.6', 13],
    ['boolean reads HubSpot "true"', 'boolean', 'true', true],
    ['join splits the provider text back into a list', { join: ';' }, 'vip;gold', ['vip', 'gold']],
    ['split joins the provider list back into text', { split: ';' }, ['a', 'b'], 'a;b'],
    [
      'date turns HubSpot epoch ms into an ISO date',
      { date: 'epoch_ms' },
      String(Date.UTC(2026, 10, 22)),
      '2026-11-22',
    ],
    [
      'datetime turns epoch ms into ISO 8601',
      { datetime: 'epoch_ms' },
      date.getTime(),
      '2026-11-22T10:30:00.000Z',
    ],
    ['email normalises a pulled address', 'email', ' Ada@Example.com', 'ada@example.com'],
    ['nullIfEmpty turns a cleared provider field into null', 'nullIfEmpty', '', null],
    ['trim is skipped (it cannot be undone)', 'trim', ' a ', ' a '],
    ['lowercase is skipped', 'lowercase', 'Ada', 'Ada'],
    ['truncate is skipped', { truncate: 1 }, 'long', 'long'],
    ['string is skipped', 'string', 'x', 'x'],
    ['default is skipped', { default: 'n/a' }, '', ''],
    [
      'number rejects a provider value that is not a number',
      'number',
      'n/a',
      rejected(/"n\/a" is not a number/),
    ],
  ])('%s', (_name, step, providerValue, expected) => {
    expectOutcome(pullThrough(step, providerValue), 'properties.v', expected);
  });

  it('applies the pull forms last step first', () => {
    const mapping = compileEntityMapping({
      fields: [
        { source: 'scores', target: 'scores', direction: 'both', transform: ['number', { join: ',' }] },
      ],
    });
    expect(mapping.push({ scores: ['1', '2'] }).payload).toEqual({ scores: '1,2' });
    expect(mapping.pull({ scores: '3,4' }).values).toEqual({ scores: [3, 4] });
  });
});
