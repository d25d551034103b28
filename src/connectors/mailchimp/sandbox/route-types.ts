import type { Audience } from './audience.js';
import type { Faults } from './faults.js';
import { SandboxProblem } from './problem.js';

export interface RouteContext {
  audience: Audience;
  /** Path captures after the list id. */
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  faults: Faults;
}

export interface RouteAnswer {
  status: number;
  body?: unknown;
}

export interface Route {
  method: string;
  /** Matched against the path after /3.0; group 1 is the list id. */
  pattern: RegExp;
  handle(rc: RouteContext): RouteAnswer;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A request body as the routes take it: an object, or {} for none (or a JSON non-object). */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    throw new SandboxProblem(400, 'JSON Parse Error', 'We encountered an unspecified JSON parsing error.');
  }
}

/** Mailchimp's `fields` query: a comma-separated list of the top-level fields to answer. */
export function onlyFields(body: Record<string, unknown>, query: URLSearchParams): Record<string, unknown> {
  const fields = query.get('fields');
  if (!fields) return body;
  const wanted = new Set(fields.split(',').map((f) => f.trim()));
  return Object.fromEntries(Object.entries(body).filter(([k]) => wanted.has(k)));
}
