import { z } from 'zod';
import { describeValue } from '../describe-value.js';
import { defineTransform, reject } from './define.js';

/**
 * Text normalisers. Non-text values pass through unchanged (a number has no case), except for
 * `email`, whose whole point is to stop a non-address before the provider rejects a batch.
 * All but `email` are lossy, so a pull skips them.
 */

export const trim = defineTransform({
  name: 'trim',
  summary: 'removes leading and trailing whitespace',
  scope: 'element',
  push: () => (v) => (typeof v === 'string' ? v.trim() : v),
  pull: 'skip',
});

export const lowercase = defineTransform({
  name: 'lowercase',
  summary: 'lower-cases text',
  scope: 'element',
  push: () => (v) => (typeof v === 'string' ? v.toLowerCase() : v),
  pull: 'skip',
});

export const uppercase = defineTransform({
  name: 'uppercase',
  summary: 'upper-cases text',
  scope: 'element',
  push: () => (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  pull: 'skip',
});

export const truncate = defineTransform<number>({
  name: 'truncate',
  summary: 'cuts text to at most N characters (never inside an emoji or other surrogate pair)',
  scope: 'element',
  param: {
    schema: z.number().int().positive(),
    presence: 'required',
    expects: 'a positive whole number of characters, e.g. { truncate: 100 }',
  },
  push: (max) => (v) => {
    // `length` counts UTF-16 units, so a string within it is within `max` characters too.
    if (typeof v !== 'string' || v.length <= max) return v;
    const chars = Array.from(v);
    return chars.length <= max ? v : chars.slice(0, max).join('');
  },
  pull: 'skip',
});

// Deliberately loose: the provider is the judge of deliverability; this only catches values that
// are plainly not an address (HubSpot fails a whole batch for one invalid email).
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const email = defineTransform({
  name: 'email',
  summary: 'trims and lower-cases an email address; rejects a value that is not one',
  scope: 'element',
  push: () => (v) => {
    if (typeof v !== 'string') return reject(`${describeValue(v)} is not an email address`);
    const normalised = v.trim().toLowerCase();
    return EMAIL.test(normalised) ? normalised : reject(`${describeValue(v)} is not an email address`);
  },
  pull: 'same',
});
