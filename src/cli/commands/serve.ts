import type { Command } from 'commander';
import { type AppContext, createAppContext } from '../../app/context.js';
import { enableProcessMetrics } from '../../metrics/registry.js';
import { buildServer } from '../../server/build-server.js';
import type { AdminRoutes } from '../../server/route-options.js';

/**
 * `crm-sync serve`: the admin server without the worker. `routes` are the /v1 route plugins that
 * need no running engine (registered by main.ts).
 */
/** `routes` builds the extra `/v1` routes once the process's resources exist. */
export function registerServeCommand(
  program: Command,
  routes: (ctx: AppContext) => AdminRoutes[] = () => [],
): void {
  program
    .command('serve')
    .description('run the admin HTTP server only (CRM_SYNC_HOST, CRM_SYNC_PORT; no worker)')
    .action(async () => {
      const ctx = createAppContext();
      enableProcessMetrics();
      const app = buildServer({ ctx, routes: routes(ctx) });
      const { CRM_SYNC_HOST: host, CRM_SYNC_PORT: port } = ctx.env;
      const address = await app.listen({ host, port });
      ctx.logger.info({ address }, 'crm-sync admin server listening');
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          ctx.logger.info({ signal }, 'admin server shutting down');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          app
            .close()
            .then(() => ctx.close())
            .finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
