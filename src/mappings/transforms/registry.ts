import { boolean, integer, number, round, string } from './conversions.js';
import { date, datetime } from './dates.js';
import type { Transform } from './define.js';
import { email, lowercase, trim, truncate, uppercase } from './text.js';
import { fallback, join, nullIfEmpty, split } from './values.js';

/** Every transform a mapping may name. Adding one is one line here plus its definition. */
const ALL: readonly Transform[] = [
  trim,
  lowercase,
  uppercase,
  truncate,
  email,
  string,
  number,
  integer,
  round,
  boolean,
  date,
  datetime,
  join,
  split,
  fallback,
  nullIfEmpty,
];

const BY_NAME = new Map(ALL.map((t) => [t.name, t]));

export const TRANSFORM_NAMES: readonly string[] = ALL.map((t) => t.name);

export function findTransform(name: string): Transform | undefined {
  return BY_NAME.get(name);
}

export function listTransforms(): readonly Transform[] {
  return ALL;
}
