import type { Queue } from 'bullmq';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { ZodError } from 'zod';
import type { AppContext } from '../app/context.js';
import { toEventIssues } from '../events/parse-event.js';
import { createEventsQueue } from '../ingest/event-jobs.js';
import { redactString } from '../store/redact.js';
import { assertAdmin } from './admin-auth.js';
import { eventsRoutes } from './events-routes.js';
import { errorBody, HttpError } from './http-error.js';
import { opsRoutes } from './ops-routes.js';
import type { AdminRoutes } from './route-options.js';

export interface BuildServerOptions {
  ctx: AppContext;
  /** Extra route plugins under `/v1`, behind the bearer check (sync status, failures, replay, …). */
  routes?: AdminRoutes[];
  /**
   * Route plugins at the root with no bearer check, for callers that authenticate themselves
   * (signature-checked provider webhooks).
   */
  publicRoutes?: AdminRoutes[];
  /** The `crm-events` producer; by default one on a connection of the context's. */
  queue?: Queue;
}

/**
 * The admin HTTP server (fastify). Call `listen` to serve, or `inject` in tests; `close` closes
 * what the server opened (the queue it created), not the context.
 *
 * @example
 * const app = buildServer({ ctx, routes: [failuresRoutes, replayRoutes] });
 * await app.listen({ host: ctx.env.CRM_SYNC_HOST, port: ctx.env.CRM_SYNC_PORT });
 */
export function buildServer(options: BuildServerOptions): FastifyInstance {
  const { ctx } = options;
  const adminToken = ctx.env.CRM_SYNC_ADMIN_TOKEN || undefined;
  // Provider webhooks may carry a secret in the URL: log the route pattern, not the URL.
  const logger: FastifyBaseLogger = ctx.logger.child(
    { component: 'admin-server' },
    { serializers: { req: requestForLog } },
  );
  const app = Fastify({ loggerInstance: logger });

  if (!adminToken) {
    app.log.warn('CRM_SYNC_ADMIN_TOKEN is not set: the /v1 admin API answers loopback clients only');
  }

  const redis = ctx.redis();
  const queue = options.queue ?? createEventsQueue(redis, ctx.env.CRM_SYNC_QUEUE_PREFIX);
  if (!options.queue) app.addHook('onClose', async () => queue.close());

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) request.log.error({ err: redactString(String(error)) }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  const deps = { ctx, queue };
  app.register(opsRoutes(redis, adminToken), deps);
  for (const routes of options.publicRoutes ?? []) app.register(routes, deps);
  app.register(
    async (v1) => {
      v1.addHook('onRequest', async (request) => assertAdmin(request, adminToken));
      v1.register(eventsRoutes, deps);
      for (const routes of options.routes ?? []) v1.register(routes, deps);
    },
    { prefix: '/v1' },
  );
  return app;
}

function toErrorResponse(error: unknown): { status: number; body: ReturnType<typeof errorBody> } {
  if (error instanceof HttpError) {
    return { status: error.status, body: errorBody(error.code, error.message, error.details) };
  }
  if (error instanceof ZodError) {
    const issues = toEventIssues(error);
    const first = issues[0];
    return {
      status: 400,
      body: errorBody('invalid_body', first ? `${first.path}: ${first.message}` : 'invalid body', { issues }),
    };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, body: errorBody(fastifyCode(fastifyError.code, status), String(fastifyError.message)) };
  }
  return { status: 500, body: errorBody('internal', 'internal error; see the server log') };
}

/** Fastify's own 4xx (bad JSON, body too large, wrong media type) in our code vocabulary. */
function fastifyCode(code: string | undefined, status: number): string {
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) return 'payload_too_large';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) return 'unsupported_media_type';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return 'invalid_json';
  return 'bad_request';
}

function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    route: request.routeOptions?.url ?? request.url.split('?')[0],
    remoteAddress: request.socket?.remoteAddress,
  };
}
