import { z } from 'zod';
import { describeValue } from '../describe-value.js';
import { parseIsoDate } from '../iso-date.js';
import { defineTransform, reject } from './define.js';

/**
 * Dates and times. Input: a `Date`, a strict ISO 8601 string (a time without an offset is UTC),
 * epoch milliseconds as a number, or digits-only text (HubSpot answers dates as epoch ms).
 *
 * HubSpot date properties take midnight UTC of the day, in epoch milliseconds or as
 * `YYYY-MM-DD` (https://developers.hubspot.com/docs/api/crm/properties#date-and-date-time-properties);
 * other providers want the ISO form, which is the default. On pull both turn the provider's value
 * back into the ISO form the CRM stores.
 */

const EPOCH_DIGITS = /^-?\d{1,16}$/;

function instant(value: unknown): { ms: number; dateOnly: boolean } | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : { ms, dateOnly: false };
  }
  if (typeof value === 'number') return Number.isFinite(value) ? { ms: value, dateOnly: false } : undefined;
  if (typeof value === 'string') {
    const text = value.trim();
    if (EPOCH_DIGITS.test(text)) return { ms: Number(text), dateOnly: false };
    return parseIsoDate(text);
  }
  return undefined;
}

/** `Date` rejects instants beyond ±8.64e15 ms; checking first keeps toISOString from throwing. */
const MAX_MS = 8.64e15;

function midnightUtc(ms: number): number {
  return ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
}

const Format = z.enum(['iso', 'epoch_ms']).optional();
const FORMAT_EXPECTS = '"iso" or "epoch_ms", e.g. { date: epoch_ms }';

function toDate(format: 'iso' | 'epoch_ms' | undefined) {
  return (v: unknown) => {
    const at = instant(v);
    if (at === undefined || Math.abs(at.ms) > MAX_MS) return reject(`${describeValue(v)} is not a date`);
    const day = midnightUtc(at.ms);
    return format === 'epoch_ms' ? day : new Date(day).toISOString().slice(0, 10);
  };
}

function toDateTime(format: 'iso' | 'epoch_ms' | undefined) {
  return (v: unknown) => {
    const at = instant(v);
    if (at === undefined || Math.abs(at.ms) > MAX_MS)
      return reject(`${describeValue(v)} is not a date and time`);
    return format === 'epoch_ms' ? at.ms : new Date(at.ms).toISOString();
  };
}

export const date = defineTransform<'iso' | 'epoch_ms' | undefined>({
  name: 'date',
  summary: 'the UTC calendar day: YYYY-MM-DD, or { date: epoch_ms } for epoch ms of midnight UTC',
  scope: 'element',
  param: { schema: Format, presence: 'optional', expects: FORMAT_EXPECTS },
  push: toDate,
  pull: () => toDate('iso'),
});

export const datetime = defineTransform<'iso' | 'epoch_ms' | undefined>({
  name: 'datetime',
  summary: 'an instant as ISO 8601 UTC (2026-11-22T10:30:00.000Z), or { datetime: epoch_ms }',
  scope: 'element',
  param: { schema: Format, presence: 'optional', expects: FORMAT_EXPECTS },
  push: toDateTime,
  pull: () => toDateTime('iso'),
});
