import type { Command } from 'commander';
import { stringify } from 'yaml';
import { type AppContext, createAppContext } from '../../app/context.js';
import { checkConfigFields } from '../../integrations/check-integration-fields.js';
import { type ConfigProblem, formatProblem } from '../../integrations/config-problem.js';
import { loadIntegrationFiles } from '../../integrations/load-integration-file.js';
import type { Integration } from '../../integrations/schema.js';
import { didYouMean } from '../../mappings/did-you-mean.js';
import { CredentialsCipherError, createCredentialsCipherFromEnv } from '../../store/credentials-cipher.js';
import { withTransaction } from '../../store/db.js';
import {
  getIntegrationByKey,
  listIntegrations,
  loadCredentials,
  setIntegrationStatus,
  upsertIntegration,
} from '../../store/integrations-repo.js';
import { printResult, renderTable } from '../output.js';

interface JsonOption {
  json?: boolean;
}

export function registerIntegrationsCommands(program: Command): void {
  const integrations = program
    .command('integrations')
    .description('declare, inspect, pause and resume integrations (see docs/configuration.md)');

  integrations
    .command('validate')
    .description('check integration files without touching the database; exit code 1 on any problem')
    .argument('<files...>', 'YAML files (one integration, `integrations: [...]`, or several documents)')
    .option('--json', 'print JSON for scripts')
    .action(async (files: string[], opts: JsonOption) => {
      const { integrations: found, problems, warnings } = await loadIntegrationFiles(files);
      const valid = problems.length === 0;
      const listed = found.map((i) => ({ key: i.config.key, provider: i.config.provider, file: i.file }));
      printResult(opts, { valid, integrations: listed, problems, warnings }, () =>
        [
          valid
            ? listed.map((i) => `ok  ${i.key} (${i.provider}) in ${i.file}`).join('\n')
            : describeProblems(problems),
          ...warnings.map(formatWarning),
        ].join('\n'),
      );
      if (!valid) process.exitCode = 1;
    });

  integrations
    .command('apply')
    .description('validate every file, then create or update their integrations by key (all or none)')
    .argument('<files...>', 'YAML files')
    .option('--json', 'print JSON for scripts')
    .option('--skip-field-check', "don't check mapped fields against the provider's live catalog")
    .action(async (files: string[], opts: JsonOption & { skipFieldCheck?: boolean }) => {
      const { integrations: found, problems, warnings } = await loadIntegrationFiles(files);
      for (const w of opts.json ? [] : warnings) process.stderr.write(`${formatWarning(w)}\n`);
      if (problems.length > 0) {
        printResult(
          opts,
          { applied: false, problems, warnings },
          () => `${describeProblems(problems)}\nnothing applied`,
        );
        process.exitCode = 1;
        return;
      }
      await withContext(async (ctx) => {
        // Mapped targets must exist at the provider, be writable and fit their type; a provider
        // that cannot be reached now is a warning, not a reason to refuse the configuration.
        if (!opts.skipFieldCheck) {
          const fieldProblems: ConfigProblem[] = [];
          for (const parsed of found) {
            const checked = await checkConfigFields(ctx, parsed.config);
            if (checked.unreachable)
              warn(`${parsed.file}: ${parsed.config.key}: fields not checked: ${checked.unreachable}`);
            for (const issue of checked.issues) {
              if (issue.severity === 'warning') warn(`${parsed.file}: ${issue.path}: ${issue.message}`);
              else fieldProblems.push({ file: parsed.file, path: issue.path, message: issue.message });
            }
          }
          if (fieldProblems.length > 0) {
            printResult(
              opts,
              { applied: false, problems: fieldProblems, warnings },
              () => `${describeProblems(fieldProblems)}\nnothing applied`,
            );
            process.exitCode = 1;
            return;
          }
        }
        const cipher = createCredentialsCipherFromEnv(ctx.env, { onWarning: warn });
        // One transaction: a failure half way (a key moving provider) leaves nothing applied.
        const results = await withTransaction(ctx.db, async (client) => {
          const out = [];
          for (const parsed of found) {
            const { integration, action } = await upsertIntegration(client, parsed.config, cipher);
            out.push({
              key: integration.key,
              provider: integration.provider,
              action,
              id: integration.id,
              file: parsed.file,
            });
          }
          return out;
        });
        printResult(opts, { applied: true, results, warnings }, () =>
          renderTable(results, ['key', 'provider', 'action', 'file']),
        );
      });
    });

  integrations
    .command('list')
    .description('list integrations')
    .option('--org <organizationId>', 'only this organization')
    .option('--json', 'print JSON for scripts')
    .action(async (opts: JsonOption & { org?: string }) => {
      await withContext(async (ctx) => {
        const rows = await listIntegrations(ctx.db, { organizationId: opts.org });
        printResult(opts, rows.map(summary), () =>
          renderTable(rows.map(summary), [
            'key',
            'provider',
            'organizationId',
            'name',
            'enabled',
            'status',
            'updatedAt',
          ]),
        );
      });
    });

  integrations
    .command('show')
    .description('show one integration; credentials are never printed, only which keys are set')
    .argument('<key>', 'integration key')
    .option('--json', 'print JSON for scripts')
    .action(async (key: string, opts: JsonOption) => {
      await withContext(async (ctx) => {
        const integration = await findByKey(ctx, key);
        const data = { ...integration, ...(await credentialKeys(ctx, integration.id)) };
        printResult(opts, data, () => stringify(data, { lineWidth: 0 }).trimEnd());
      });
    });

  integrations
    .command('pause')
    .description('stop syncing an integration until it is resumed (events wait, nothing is lost)')
    .argument('<key>', 'integration key')
    .option('--reason <text>', 'why, shown in list and show', 'paused by an operator')
    .option('--json', 'print JSON for scripts')
    .action(async (key: string, opts: JsonOption & { reason: string }) => {
      await changeStatus(key, opts, { status: 'paused', reason: opts.reason });
    });

  integrations
    .command('resume')
    .description('resume a paused integration')
    .argument('<key>', 'integration key')
    .option('--json', 'print JSON for scripts')
    .action(async (key: string, opts: JsonOption) => {
      await changeStatus(key, opts, { status: 'active', reason: null });
    });
}

async function changeStatus(
  key: string,
  opts: JsonOption,
  change: { status: Integration['status']; reason: string | null },
): Promise<void> {
  await withContext(async (ctx) => {
    const integration = await findByKey(ctx, key);
    const updated = await setIntegrationStatus(ctx.db, integration.id, change);
    if (!updated) throw new Error(`integration "${key}" was deleted meanwhile`);
    printResult(opts, summary(updated), () =>
      updated.status === 'paused' ? `${key}: paused (${updated.statusReason})` : `${key}: active`,
    );
  });
}

/**
 * Which credentials are set, by name. A key that cannot decrypt them (another machine's
 * development key, a rotated key) is reported beside the rest of the integration, not instead of it.
 */
async function credentialKeys(
  ctx: AppContext,
  id: string,
): Promise<{ credentialKeys: string[] | null; credentialsError?: string }> {
  try {
    const cipher = createCredentialsCipherFromEnv(ctx.env, { onWarning: warn });
    const credentials = await loadCredentials(ctx.db, id, cipher);
    return { credentialKeys: Object.keys(credentials ?? {}).sort() };
  } catch (error) {
    if (!(error instanceof CredentialsCipherError)) throw error;
    return { credentialKeys: null, credentialsError: error.message };
  }
}

async function withContext(run: (ctx: AppContext) => Promise<void>): Promise<void> {
  const ctx = createAppContext();
  try {
    await run(ctx);
  } finally {
    await ctx.close();
  }
}

async function findByKey(ctx: AppContext, key: string): Promise<Integration> {
  const integration = await getIntegrationByKey(ctx.db, key);
  if (integration) return integration;
  const keys = (await listIntegrations(ctx.db)).map((i) => i.key);
  throw new Error(`no integration with key "${key}"${didYouMean(key, keys)}`);
}

function summary(i: Integration) {
  return {
    id: i.id,
    key: i.key,
    provider: i.provider,
    organizationId: i.organizationId,
    name: i.name,
    enabled: i.enabled,
    status: i.status,
    statusReason: i.statusReason,
    pausedUntil: i.pausedUntil,
    updatedAt: i.updatedAt,
  };
}

function describeProblems(problems: ConfigProblem[]): string {
  const files = new Set(problems.map((p) => p.file)).size;
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`;
  return `${problems.map(formatProblem).join('\n')}\n${count}`;
}

function formatWarning(problem: ConfigProblem): string {
  return formatProblem({ ...problem, message: `warning: ${problem.message}` });
}

function warn(message: string): void {
  process.stderr.write(`crm-sync: warning: ${message}\n`);
}
