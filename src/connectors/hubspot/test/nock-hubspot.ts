import nock from 'nock';
import { expect } from 'vitest';
import { TOKEN } from './fixtures.js';
import { requestProblems } from './openapi.js';

export const BASE = 'https://api.hubapi.com';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Expected {
  /** The spec file and path template the request body is validated against. */
  spec?: { file: string; template: string };
}

/**
 * Expects one request (`POST /crm/v3/…`) carrying the access token, answers it, and keeps the
 * body it got so the test can compare it exactly and against HubSpot's OpenAPI schema.
 */
export function expectRequest(
  method: 'get' | 'post' | 'put' | 'delete',
  path: string,
  reply: Reply,
  expected: Expected = {},
): { bodies: unknown[] } {
  const seen = { bodies: [] as unknown[] };
  const scope = nock(BASE).matchHeader('authorization', `Bearer ${TOKEN}`);
  const interceptor =
    method === 'get' || method === 'delete'
      ? scope[method](path)
      : scope[method](path, (body: unknown) => {
          seen.bodies.push(body);
          return true;
        });
  interceptor.reply(reply.status, reply.body as nock.Body, reply.headers);
  if (expected.spec) {
    const { file, template } = expected.spec;
    const check = seen.bodies;
    afterCheck.push(() => {
      for (const body of check)
        expect(requestProblems(file, method, template, body), `${method.toUpperCase()} ${path}`).toEqual([]);
    });
  }
  return seen;
}

const afterCheck: (() => void)[] = [];

/** Every expected request was made, and every body matched HubSpot's schema. */
export function expectAllDone(): void {
  const pending = nock.pendingMocks();
  expect(pending, 'HubSpot requests expected but not made').toEqual([]);
  for (const check of afterCheck.splice(0)) check();
}

export function resetNock(): void {
  nock.cleanAll();
  afterCheck.length = 0;
}

const now = '2026-11-22T10:30:00.000Z';

/** A `SimplePublicObject` as HubSpot answers it. */
export function hsObject(
  id: string,
  properties: Record<string, string> = {},
  extra: Record<string, unknown> = {},
) {
  return { id, properties, createdAt: now, updatedAt: now, archived: false, ...extra };
}

export function batchAnswer(results: unknown[], errors: unknown[] = []) {
  return {
    status: 'COMPLETE',
    results,
    ...(errors.length ? { errors, numErrors: errors.length } : {}),
    startedAt: now,
    completedAt: now,
  };
}

export function hubspotError(category: string, message: string, extra: Record<string, unknown> = {}) {
  return {
    status: 'error',
    message,
    correlationId: 'aeb5f871-7f07-4993-9211-075dc63e7cbf',
    category,
    ...extra,
  };
}
