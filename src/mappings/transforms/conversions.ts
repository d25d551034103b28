import { z } from 'zod';
import { describeValue } from '../describe-value.js';
import { defineTransform, reject } from './define.js';

/**
 * Type conversions. Number and boolean conversions are re-applied on pull, because providers
 * answer typed values as text (HubSpot returns `"12"` for a number property).
 */

// Stricter than Number(): no hex, no "Infinity", no empty string as 0.
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number from a number or numeric text; `undefined` for anything else. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const text = value.trim();
    return NUMERIC.test(text) ? Number(text) : undefined;
  }
  return undefined;
}

export const string = defineTransform({
  name: 'string',
  summary: 'turns numbers, booleans and dates into text',
  scope: 'element',
  push: () => (v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : reject(`${v} is not a finite number`);
    if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? reject('an invalid date') : v.toISOString();
    return reject(`${describeValue(v)} cannot be turned into text`);
  },
  // The CRM field's own type is unknown here; a pulled text value is left as the provider sent it.
  pull: 'skip',
});

export const number = defineTransform({
  name: 'number',
  summary: 'turns numeric text into a number; rejects anything else',
  scope: 'element',
  push: () => (v) => toNumber(v) ?? reject(`${describeValue(v)} is not a number`),
  pull: 'same',
});

function roundTo(n: number, digits: number): number {
  const abs = Math.abs(n);
  // Shifting by exponent avoids the binary error of n * 10^d (1.005 → 1.01, not 1.00); numbers
  // that already print in exponent form are too small or too large for that error to matter.
  const text = String(abs);
  const result = text.includes('e')
    ? Math.round(abs * 10 ** digits) / 10 ** digits
    : Number(`${Math.round(Number(`${text}e${digits}`))}e-${digits}`);
  return n < 0 && result !== 0 ? -result : result;
}

export const integer = defineTransform({
  name: 'integer',
  summary: 'a number rounded to the nearest whole number (halves away from zero)',
  scope: 'element',
  push: () => (v) => {
    const n = toNumber(v);
    return n === undefined ? reject(`${describeValue(v)} is not a number`) : roundTo(n, 0);
  },
  pull: 'same',
});

export const round = defineTransform<number | undefined>({
  name: 'round',
  summary: 'a number rounded to N decimal places (default 0, halves away from zero)',
  scope: 'element',
  param: {
    schema: z.number().int().min(0).max(15).optional(),
    presence: 'optional',
    expects: 'a number of decimal places from 0 to 15, e.g. { round: 2 }',
  },
  push:
    (digits = 0) =>
    (v) => {
      const n = toNumber(v);
      return n === undefined ? reject(`${describeValue(v)} is not a number`) : roundTo(n, digits);
    },
  pull: 'same',
});

const TRUE = new Set(['true', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'no', 'n', '0', 'off']);

export const boolean = defineTransform({
  name: 'boolean',
  summary: 'true/false from booleans, 1/0 and the words true, yes, y, on / false, no, n, off',
  scope: 'element',
  push: () => (v) => {
    if (typeof v === 'boolean') return v;
    if (v === 1 || v === 0) return v === 1;
    if (typeof v === 'string') {
      const word = v.trim().toLowerCase();
      if (TRUE.has(word)) return true;
      if (FALSE.has(word)) return false;
    }
    return reject(`${describeValue(v)} is not a boolean`);
  },
  pull: 'same',
});
