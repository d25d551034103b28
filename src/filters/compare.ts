import { instantOf, parseIsoDate } from '../mappings/iso-date.js';
import { toNumber } from '../mappings/transforms/conversions.js';

/**
 * Value comparisons for filters. Equality is by value across the spellings a CRM snapshot and a
 * YAML filter use for the same thing: `42` and `"42"`, `true` and `"true"`, a `Date` and its
 * ISO string, two ISO spellings of one instant. Text is compared case-sensitively (enum values
 * such as ACTIVE); `contains`, `starts_with` and `ends_with` are the case-insensitive ones.
 */

export type Scalar = string | number | boolean | null;

export function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** A predicate "equals `expected`", with the expected value's readings worked out once. */
export function equalsTo(expected: Scalar | Date): (actual: unknown) => boolean {
  if (expected === null) return (actual) => actual === null || actual === undefined;
  if (expected instanceof Date) {
    const ms = expected.getTime();
    return (actual) => instantOf(actual) === ms;
  }
  if (typeof expected === 'number') {
    return (actual) => actual === expected || (typeof actual === 'string' && toNumber(actual) === expected);
  }
  if (typeof expected === 'boolean') {
    const word = String(expected);
    return (actual) =>
      actual === expected || (typeof actual === 'string' && actual.trim().toLowerCase() === word);
  }
  const asNumber = toNumber(expected);
  const asBoolean = expected === 'true' ? true : expected === 'false' ? false : undefined;
  const iso = parseIsoDate(expected);
  // A date-only value is a day, not an instant: only the same text (or a Date) equals it.
  const instant = iso && !iso.dateOnly ? iso.ms : undefined;
  return (actual) => {
    if (actual === expected) return true;
    if (typeof actual === 'number') return actual === asNumber;
    if (typeof actual === 'boolean') return actual === asBoolean;
    if (actual instanceof Date) return iso !== undefined && actual.getTime() === iso.ms;
    if (instant !== undefined && typeof actual === 'string') return parseIsoDate(actual)?.ms === instant;
    return false;
  };
}

/** What an ordering operator compares against: a number, or an instant in epoch ms. */
export type Bound = { kind: 'number'; value: number } | { kind: 'date'; value: number };

/** A filter value as a bound: numbers and numeric text are numbers; ISO text and Dates are instants. */
export function boundOf(value: unknown): Bound | undefined {
  const n = toNumber(value);
  if (n !== undefined) return { kind: 'number', value: n };
  const ms = instantOf(value);
  return ms === undefined ? undefined : { kind: 'date', value: ms };
}

/**
 * The record value read the way the bound is: a number against a number, an instant against an
 * instant. Anything else (text against a number, a number against a date) is `undefined`, and
 * the comparison is false.
 */
export function readAs(bound: Bound, actual: unknown): number | undefined {
  return bound.kind === 'number' ? toNumber(actual) : instantOf(actual);
}

/** null, undefined, "", [] and {} (a plain object without keys). */
export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return (proto === Object.prototype || proto === null) && Object.keys(value).length === 0;
  }
  return false;
}
