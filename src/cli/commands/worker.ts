import { type Command, Option } from 'commander';
import { adminRoutes } from '../../api/admin-routes.js';
import { type AppContext, createAppContext } from '../../app/context.js';
import { createEngine, type Engine } from '../../engine/engine.js';
import { enableProcessMetrics } from '../../metrics/registry.js';
import { buildServer } from '../../server/build-server.js';
import { migrate } from '../../store/migrate.js';

/**
 * Runs until SIGTERM/SIGINT, then shuts down gracefully: the admin server stops accepting,
 * the engine stops taking jobs, finishes or returns the ones in flight, flushes its batches and
 * closes its connections. A second signal exits at once.
 */
async function runUntilSignal(ctx: AppContext, engine: Engine, close: () => Promise<void>): Promise<void> {
  let stopping = false;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        ctx.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      ctx.logger.info({ signal }, 'shutting down');
      close()
        .catch((error: unknown) =>
          ctx.logger.error({ err: (error as Error).message }, 'error while shutting down'),
        )
        .finally(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  void engine;
}

type Role = 'all' | 'events' | 'sync';

async function startEngine(ctx: AppContext, role: Role = 'all'): Promise<Engine> {
  await migrate({ databaseUrl: ctx.env.DATABASE_URL, logger: ctx.logger });
  const engine = createEngine(ctx, {
    role,
    eventConcurrency: ctx.env.CRM_SYNC_EVENT_CONCURRENCY,
    coalesceMs: ctx.env.CRM_SYNC_COALESCE_MS,
  });
  await engine.start();
  return engine;
}

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('consume CRM events and sync them to every integration (no admin server)')
    .addOption(
      new Option(
        '--only <role>',
        'run one half: events (consume and route) or sync (push to providers)',
      ).choices(['events', 'sync']),
    )
    .action(async (opts: { only?: 'events' | 'sync' }) => {
      const ctx = createAppContext();
      const engine = await startEngine(ctx, opts.only ?? 'all');
      ctx.logger.info({ role: opts.only ?? 'all' }, 'crm-sync worker started');
      await runUntilSignal(ctx, engine, async () => {
        await engine.stop();
        await ctx.close();
      });
    });

  program
    .command('start')
    .description('run the worker and the admin HTTP server in one process')
    .action(async () => {
      const ctx = createAppContext();
      enableProcessMetrics();
      const engine = await startEngine(ctx);
      const app = buildServer({
        ctx,
        queue: engine.eventsQueue,
        routes: adminRoutes(engine),
      });
      const address = await app.listen({ host: ctx.env.CRM_SYNC_HOST, port: ctx.env.CRM_SYNC_PORT });
      ctx.logger.info({ address }, 'crm-sync started: worker and admin server');
      await runUntilSignal(ctx, engine, async () => {
        await app.close();
        await engine.stop();
        await ctx.close();
      });
    });
}
