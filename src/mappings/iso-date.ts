/**
 * Strict ISO 8601 parsing. `Date.parse` is too forgiving for configuration and record data: it
 * rolls `2026-02-30` over to March 2, accepts "11/22/2026", and reads a time without an offset
 * in the machine's zone. Here a date must exist, and a time without an offset is UTC, so the
 * result never depends on where the worker runs.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function offsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

export interface IsoInstant {
  /** Epoch milliseconds. */
  ms: number;
  /** `2026-11-22` (no time part): the date itself matters, not an instant in some zone. */
  dateOnly: boolean;
}

/** Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:mm[:ss[.fff]][Z|±HH:mm]`; `undefined` if not valid. */
export function parseIsoDate(text: string): IsoInstant | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (h === undefined) return { ms: Date.UTC(year, month - 1, day), dateOnly: true };
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const offset = offsetMinutes(zone);
  if (Math.abs(offset) > 18 * 60) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000;
  return { ms, dateOnly: false };
}

/** Epoch ms of a valid `Date` or a strict ISO string; `undefined` for anything else. */
export function instantOf(value: unknown): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value === 'string') return parseIsoDate(value)?.ms;
  return undefined;
}
