import { z } from 'zod';
import { describeValue } from '../describe-value.js';
import { defineTransform, reject } from './define.js';

/** Transforms of the value as a whole: lists to text and back, defaults, emptiness. */

function textOf(element: unknown): string | undefined {
  if (typeof element === 'string') return element;
  if (typeof element === 'number' || typeof element === 'boolean' || typeof element === 'bigint') {
    return String(element);
  }
  if (element instanceof Date && !Number.isNaN(element.getTime())) return element.toISOString();
  return undefined;
}

function joinWith(separator: string) {
  return (v: unknown) => {
    if (!Array.isArray(v)) return v;
    const parts: string[] = [];
    for (let i = 0; i < v.length; i += 1) {
      const element = v[i];
      if (element === null || element === undefined) continue;
      const text = textOf(element);
      if (text === undefined)
        return reject(`element [${i}] is ${describeValue(element)}, which cannot be joined`);
      parts.push(text);
    }
    return parts.join(separator);
  };
}

function splitOn(separator: string) {
  return (v: unknown) => {
    if (typeof v !== 'string') return v;
    const parts: string[] = [];
    for (const part of v.split(separator)) {
      const trimmed = part.trim();
      if (trimmed !== '') parts.push(trimmed);
    }
    return parts;
  };
}

export const join = defineTransform<string>({
  name: 'join',
  summary: 'joins a list into text with a separator (HubSpot multi-select takes ";"); splits on pull',
  scope: 'value',
  param: { schema: z.string(), presence: 'required', expects: 'a separator text, e.g. { join: ";" }' },
  push: joinWith,
  pull: (separator) => (separator === '' ? (v) => v : splitOn(separator)),
});

export const split = defineTransform<string>({
  name: 'split',
  summary: 'splits text into a list of trimmed, non-empty parts; joins on pull',
  scope: 'value',
  param: {
    schema: z.string().min(1),
    presence: 'required',
    expects: 'a non-empty separator, e.g. { split: ";" }',
  },
  push: splitOn,
  pull: joinWith,
});

export const fallback = defineTransform<unknown>({
  name: 'default',
  summary: 'replaces a missing, null or empty ("") value with a constant',
  scope: 'value',
  acceptsMissing: true,
  param: {
    // `{ default: null }` is a valid way to say "send null"; only the key must be there.
    schema: z.unknown(),
    presence: 'required',
    expects: 'the value to use, e.g. { default: "n/a" }',
  },
  push: (replacement) => (v) => (v === undefined || v === null || v === '' ? replacement : v),
  // A pulled value is the provider's; the push-side default says nothing about the CRM's.
  pull: 'skip',
});

export const nullIfEmpty = defineTransform({
  name: 'nullIfEmpty',
  summary: 'turns "", whitespace-only text and [] into null, which clears the provider field',
  scope: 'value',
  push: () => (v) => {
    if (typeof v === 'string') return v.trim() === '' ? null : v;
    if (Array.isArray(v)) return v.length === 0 ? null : v;
    return v;
  },
  pull: 'same',
});
