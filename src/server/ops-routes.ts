import type { Redis } from 'ioredis';
import { metricsRegistry } from '../metrics/registry.js';
import { redactString } from '../store/redact.js';
import { assertOpsAccess } from './admin-auth.js';
import { errorBody } from './http-error.js';
import type { AdminRoutes } from './route-options.js';

const CHECK_TIMEOUT_MS = 2_000;

type CheckResult = 'ok' | 'unreachable';

/** `/healthz` (the process answers), `/readyz` (Postgres and Redis answer), `/metrics` (Prometheus). */
export function opsRoutes(redis: Redis, adminToken: string | undefined): AdminRoutes {
  return async (app, { ctx }) => {
    app.addHook('onRequest', async (request) => assertOpsAccess(request, adminToken));

    app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

    app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
      const check = async (name: string, probe: () => Promise<unknown>): Promise<CheckResult> => {
        try {
          await withTimeout(
            probe(),
            CHECK_TIMEOUT_MS,
            `${name} did not answer within ${CHECK_TIMEOUT_MS} ms`,
          );
          return 'ok';
        } catch (error) {
          ctx.logger.warn({ check: name, err: redactString(String(error)) }, 'readiness check failed');
          return 'unreachable';
        }
      };
      const [postgres, redisState] = await Promise.all([
        check('postgres', () => ctx.db.query('SELECT 1')),
        check('redis', () => redis.ping()),
      ]);
      const checks = { postgres, redis: redisState };
      if (postgres === 'ok' && redisState === 'ok') return { status: 'ready', checks };
      const down = Object.entries(checks)
        .filter(([, v]) => v !== 'ok')
        .map(([k]) => k);
      return reply.code(503).send(errorBody('not_ready', `unreachable: ${down.join(', ')}`, { checks }));
    });

    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      reply.header('content-type', metricsRegistry.contentType);
      return metricsRegistry.metrics();
    });
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
