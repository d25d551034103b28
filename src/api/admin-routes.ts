import type { Engine } from '../engine/engine.js';
import type { AdminRoutes } from '../server/route-options.js';
import { failuresRoutes } from './failures-routes.js';
import { syncStatusRoutes } from './sync-status-routes.js';

/** Every `/v1` route beyond event ingest, for `start` and `serve` alike. */
export function adminRoutes(engine: Engine): AdminRoutes[] {
  return [syncStatusRoutes, failuresRoutes(engine)];
}
