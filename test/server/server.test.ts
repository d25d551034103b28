import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import { buildServer } from '../../src/server/build-server.js';
import type { AdminRoutes } from '../../src/server/route-options.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { createTestRedis, deletePrefix, testPrefix } from '../helpers/test-redis.js';
import { serverContext } from './server-context.js';

const TOKEN = 'admin-token-for-tests-0123456789';
const REMOTE = '10.1.2.3';

let t: TestDb;
let prefix: string;
const opened: { app: FastifyInstance; ctx: AppContext }[] = [];

/** A probe route an engine would add, to see that extra routes get the same guard. */
const pingRoutes: AdminRoutes = async (app) => {
  app.get('/ping', async () => ({ pong: true }));
};
const webhookRoutes: AdminRoutes = async (app) => {
  app.post('/webhooks/test', async () => ({ received: true }));
};

function start(token: string | undefined, databaseUrl = t.url) {
  const { ctx, logs } = serverContext({
    DATABASE_URL: databaseUrl,
    CRM_SYNC_QUEUE_PREFIX: prefix,
    CRM_SYNC_ADMIN_TOKEN: token,
  });
  const app = buildServer({ ctx, routes: [pingRoutes], publicRoutes: [webhookRoutes] });
  opened.push({ app, ctx });
  return { app, logs };
}

beforeAll(async () => {
  t = await createTestDb();
  prefix = testPrefix('server');
});

afterAll(async () => {
  for (const { app, ctx } of opened) {
    await app.close();
    await ctx.close();
  }
  const redis = createTestRedis();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await t?.drop();
});

describe('the admin server with a token', () => {
  it('answers /healthz on loopback without a token', async () => {
    const { app } = start(TOKEN);
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('reports ready when Postgres and Redis answer', async () => {
    const { app } = start(TOKEN);
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers 503 naming the dependency that does not answer', async () => {
    const { app } = start(TOKEN, 'postgres://postgres:pw-never-shown@127.0.0.1:1/nothing');
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: {
        code: 'not_ready',
        message: 'unreachable: postgres',
        details: { checks: { postgres: 'unreachable', redis: 'ok' } },
      },
    });
  });

  it('serves Prometheus metrics, including the ingest counters', async () => {
    const { app } = start(TOKEN);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('# TYPE crm_sync_events_unknown_total counter');
  });

  it('asks non-loopback callers of the health and metrics endpoints for the token', async () => {
    const { app } = start(TOKEN);
    const anonymous = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: REMOTE });
    expect(anonymous.statusCode).toBe(401);
    const authorised = await app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress: REMOTE,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(authorised.statusCode).toBe(200);
  });

  it('refuses the /v1 API without a bearer token, even on loopback', async () => {
    const { app } = start(TOKEN);
    const res = await app.inject({ method: 'GET', url: '/v1/ping' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: {
        code: 'unauthorized',
        message: 'missing bearer token: send "Authorization: Bearer <CRM_SYNC_ADMIN_TOKEN>"',
      },
    });
  });

  it('refuses a wrong bearer token', async () => {
    const { app } = start(TOKEN);
    for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer short', `Basic ${TOKEN}`]) {
      const res = await app.inject({ method: 'GET', url: '/v1/ping', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it('serves routes added by the caller behind the same check', async () => {
    const { app } = start(TOKEN);
    const res = await app.inject({
      method: 'GET',
      url: '/v1/ping',
      remoteAddress: REMOTE,
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ pong: true });
  });

  it('leaves public routes (signature-checked webhooks) to authenticate themselves', async () => {
    const { app } = start(TOKEN);
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/test',
      remoteAddress: REMOTE,
      payload: {},
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers unknown routes and unparsable bodies in the one error shape', async () => {
    const { app } = start(TOKEN);
    const missing = await app.inject({ method: 'GET', url: '/nope?token=abc' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /nope' } });

    const badJson = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{"id": ',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error).toMatchObject({ code: 'invalid_json', message: expect.any(String) });
  });

  it('writes neither the token nor query strings to the log', async () => {
    const { app, logs } = start(TOKEN);
    await app.inject({ method: 'GET', url: '/v1/ping', headers: { authorization: `Bearer ${TOKEN}` } });
    await app.inject({ method: 'POST', url: '/webhooks/test?secret=hook-secret-123', payload: {} });
    await app.inject({
      method: 'GET',
      url: '/v1/ping',
      headers: { authorization: 'Bearer wrong-token-456' },
    });
    const text = logs.join('');
    expect(text).toContain('/webhooks/test');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('hook-secret-123');
    expect(text).not.toContain('wrong-token-456');
  });
});

describe('the admin server without a token', () => {
  it('serves the /v1 API to loopback callers only, and warns about it', async () => {
    const { app, logs } = start(undefined);
    expect((await app.inject({ method: 'GET', url: '/v1/ping' })).statusCode).toBe(200);
    const remote = await app.inject({ method: 'GET', url: '/v1/ping', remoteAddress: REMOTE });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().error).toEqual({
      code: 'forbidden',
      message: 'the admin API is served only on loopback while CRM_SYNC_ADMIN_TOKEN is not set',
    });
    expect(logs.join('')).toContain('CRM_SYNC_ADMIN_TOKEN is not set');
  });

  it('treats an empty token as none configured', async () => {
    const { app } = start('');
    expect((await app.inject({ method: 'GET', url: '/v1/ping', remoteAddress: REMOTE })).statusCode).toBe(
      403,
    );
  });
});
