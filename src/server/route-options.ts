import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../app/context.js';

/** What every admin route plugin is registered with. */
export interface AdminRouteOptions {
  ctx: AppContext;
  /** The `crm-events` queue (producer side). */
  queue: Queue;
}

/**
 * A route plugin for `buildServer({ routes })`. Register paths relative to `/v1`
 * (`app.get('/failures', …)` serves `/v1/failures`); the bearer check is already applied.
 */
export type AdminRoutes = FastifyPluginAsync<AdminRouteOptions>;
