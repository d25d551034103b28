import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';

/**
 * Who may call what:
 *   /v1/*                        Bearer CRM_SYNC_ADMIN_TOKEN; without a configured token, loopback only;
 *   /healthz, /readyz, /metrics  open on loopback; from elsewhere as /v1.
 * "Loopback" is the TCP peer address: behind a reverse proxy on the same host every caller looks
 * local, so always configure a token there.
 */

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}

/** Compares digests, not the strings: equal length always, so the time says nothing about the token. */
export function tokensMatch(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Throws 401/403 unless the request may use the admin API. `token` undefined = none configured. */
export function assertAdmin(request: FastifyRequest, token: string | undefined): void {
  if (token === undefined) {
    if (isLoopback(request.socket.remoteAddress)) return;
    throw new HttpError(
      403,
      'forbidden',
      'the admin API is served only on loopback while CRM_SYNC_ADMIN_TOKEN is not set',
    );
  }
  const given = bearerToken(request);
  if (given === undefined) {
    throw new HttpError(
      401,
      'unauthorized',
      'missing bearer token: send "Authorization: Bearer <CRM_SYNC_ADMIN_TOKEN>"',
    );
  }
  if (!tokensMatch(given, token)) throw new HttpError(401, 'unauthorized', 'invalid bearer token');
}

/** Health and metrics: free on loopback (probes, a local Prometheus agent), else as the admin API. */
export function assertOpsAccess(request: FastifyRequest, token: string | undefined): void {
  if (isLoopback(request.socket.remoteAddress)) return;
  assertAdmin(request, token);
}
