import { invalid } from './problem.js';

/**
 * One page of a collection, as Mailchimp answers every list endpoint: `count` items (default 10,
 * at most 1000) from `offset`, and `total_items` for the whole collection
 * (https://mailchimp.com/developer/marketing/docs/methods-parameters/#pagination). A client that
 * reads one page sees only that page, here as there.
 */
export function pageOf<T>(query: URLSearchParams, items: readonly T[]): { items: T[]; total_items: number } {
  const count = Math.min(1000, whole(query, 'count', 10));
  const offset = whole(query, 'offset', 0);
  return { items: items.slice(offset, offset + count), total_items: items.length };
}

function whole(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw invalid('The resource submitted could not be validated.', [
      { field: name, message: `${name} must be a whole number ≥ 0` },
    ]);
  return n;
}
