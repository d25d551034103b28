/**
 * A short, readable rendering of a record value for issue messages. Long strings are cut so
 * that one odd record cannot flood a log line or a dead letter.
 */
const MAX = 60;

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return value.length > MAX ? `${JSON.stringify(value.slice(0, MAX))}…` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}
