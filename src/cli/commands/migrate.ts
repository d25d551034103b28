import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { migrate } from '../../store/migrate.js';
import { printResult } from '../output.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations to schema crm_sync (also run by start/worker)')
    .option('--down', 'roll back the latest migration instead')
    .option('--json', 'print JSON for scripts')
    .action(async (opts: { down?: boolean; json?: boolean }) => {
      const env = loadEnv();
      const applied = await migrate({
        databaseUrl: env.DATABASE_URL,
        direction: opts.down ? 'down' : 'up',
        ...(opts.down ? { count: 1 } : {}),
      });
      printResult(opts, { applied }, () =>
        applied.length === 0 ? 'schema crm_sync is up to date' : `applied: ${applied.join(', ')}`,
      );
    });
}
