import { Command } from 'commander';
import { adminRoutes } from '../api/admin-routes.js';
import { createEngine } from '../engine/engine.js';
import { registerFailuresCommands } from './commands/failures.js';
import { registerIntegrationsCommands } from './commands/integrations.js';
import { registerIntegrationsTestCommand } from './commands/integrations-test.js';
import { registerMappingCommands } from './commands/mapping-preview.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerPublishCommand } from './commands/publish.js';
import { registerServeCommand } from './commands/serve.js';
import { registerStatusCommands } from './commands/status.js';
import { registerWorkerCommands } from './commands/worker.js';

/** Builds the `crm-sync` command line. Each command lives in its own module under ./commands. */
export function buildProgram(): Command {
  const program = new Command('crm-sync')
    .description('Keeps HubSpot, Mailchimp, Slack, Segment and signed webhooks in sync with the CRM.')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerMigrateCommand(program);
  registerPublishCommand(program);
  // The admin server alone still replays: it queues on the sync queues the workers consume.
  registerServeCommand(program, (ctx) => adminRoutes(createEngine(ctx)));
  registerWorkerCommands(program);
  registerFailuresCommands(program);
  registerStatusCommands(program);
  registerIntegrationsCommands(program);
  registerIntegrationsTestCommand(program);
  registerMappingCommands(program);
  return program;
}

/** Runs the CLI; errors print as one line on stderr and set a failing exit code. */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error: unknown) {
    process.stderr.write(`crm-sync: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
