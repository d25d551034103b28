import type { Command } from 'commander';
import { createAppContext } from '../../app/context.js';
import { createEngine } from '../../engine/engine.js';
import { checkIntegrationFields } from '../../integrations/check-integration-fields.js';
import { getIntegrationByKey } from '../../store/integrations-repo.js';
import { printResult } from '../output.js';

/**
 * `crm-sync integrations test KEY`: asks the provider whether the credentials work (`check`)
 * and checks every mapped target against its live field catalog. Exit code 1 when anything
 * is wrong, so a deploy script can stop.
 */
export function registerIntegrationsTestCommand(program: Command): void {
  const integrations = program.commands.find((c) => c.name() === 'integrations');
  if (!integrations) throw new Error('register the integrations command first');
  integrations
    .command('test')
    .argument('<key>', 'integration key')
    .description('check the credentials with the provider and every mapped field against its live catalog')
    .option('--json', 'print JSON for scripts')
    .action(async (key: string, opts: { json?: boolean }) => {
      const ctx = createAppContext();
      const engine = createEngine(ctx);
      try {
        const integration = await getIntegrationByKey(ctx.db, key);
        if (!integration)
          throw new Error(`no integration with key "${key}" (see: crm-sync integrations list)`);
        const rt = await engine.registry.get(integration.id);
        if (!rt) throw new Error(`integration "${key}" vanished`);
        const check = await rt.client
          .check()
          .catch((error: unknown) => ({ ok: false, message: (error as Error).message }));
        const fields = check.ok ? await checkIntegrationFields(rt, integration.config.mappings) : null;
        const errors = fields?.issues.filter((i) => i.severity === 'error') ?? [];
        const ok = check.ok && !fields?.unreachable && errors.length === 0;
        printResult(opts, { key, ok, check, fields }, () =>
          [
            `${check.ok ? 'ok ' : 'FAIL'} credentials${'account' in check && check.account ? ` (account ${check.account})` : ''}${check.message ? `: ${check.message}` : ''}`,
            ...(fields?.unreachable ? [`FAIL fields: ${fields.unreachable}`] : []),
            ...(fields && !fields.unreachable
              ? [
                  fields.checked.length === 0
                    ? 'ok  fields: nothing to check (free-form payload)'
                    : `${errors.length === 0 ? 'ok ' : 'FAIL'} fields: ${fields.checked.join(', ')} checked against the live catalog`,
                ]
              : []),
            ...(fields?.issues ?? []).map((i) => `  ${i.severity}: ${i.path}: ${i.message}`),
          ].join('\n'),
        );
        if (!ok) process.exitCode = 1;
      } finally {
        await engine.stop();
        await ctx.close();
      }
    });
}
