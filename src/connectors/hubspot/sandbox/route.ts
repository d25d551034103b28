import type { z } from 'zod';
import type { Faults } from './faults.js';
import { badRequest } from './sandbox-errors.js';
import type { SandboxStore } from './sandbox-store.js';

export interface SandboxBehaviour {
  /**
   * How much of a whole-batch VALIDATION_ERROR names the bad input: `first` (the first bad
   * input's problems, as HubSpot tends to), `all`, or `none` (a bare message: forces bisection).
   */
  validationReport: 'first' | 'all' | 'none';
  /** Records created less than this long ago are not found by the search API yet. */
  searchIndexLagMs: number;
}

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  store: SandboxStore;
  faults: Faults;
  behaviour: SandboxBehaviour;
}

export interface RouteAnswer {
  status: number;
  body?: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Named groups become `params`. */
  pattern: RegExp;
  /** `search` requests have their own, lower per-second limit. */
  kind?: 'search';
  handle(ctx: RouteContext): RouteAnswer;
}

export const nowIso = () => new Date().toISOString();

/** A batch answer's envelope (`BatchResponse…` in HubSpot's OpenAPI documents). */
export function batchEnvelope(results: unknown[], errors: unknown[] = []) {
  const now = nowIso();
  return {
    status: 'COMPLETE',
    results,
    ...(errors.length > 0 ? { errors, numErrors: errors.length } : {}),
    requestedAt: now,
    startedAt: now,
    completedAt: now,
  };
}

/** A request body checked against its schema; a 400 like HubSpot's "Invalid input JSON" otherwise. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(
      `Invalid input JSON: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
