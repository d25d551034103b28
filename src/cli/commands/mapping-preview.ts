import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createAppContext } from '../../app/context.js';
import type { Provider } from '../../connectors/types.js';
import { IntegrationConfigError } from '../../integrations/config-problem.js';
import { loadIntegrationFile } from '../../integrations/load-integration-file.js';
import { PREVIEW_ENTITIES, type PreviewEntity, previewMapping } from '../../integrations/mapping-preview.js';
import { didYouMean } from '../../mappings/did-you-mean.js';
import type { MappingsInput } from '../../mappings/schema.js';
import { getIntegrationByKey, listIntegrations } from '../../store/integrations-repo.js';
import { printResult } from '../output.js';

interface PreviewOptions {
  record: string;
  entity?: string;
  json?: boolean;
}

interface Target {
  key: string;
  provider: Provider;
  mappings: MappingsInput | undefined;
}

export function registerMappingCommands(program: Command): void {
  const mapping = program.command('mapping').description('try field mappings on CRM records');
  mapping
    .command('preview')
    .description("print the payload an integration's mapping makes of a CRM record, and any issues")
    .argument('<integration>', 'an applied integration key, or a YAML file holding one integration')
    .requiredOption('--record <file>', 'JSON file: a contact/company/activity snapshot or an event envelope')
    .option(
      '--entity <entity>',
      `which mapping to apply: ${PREVIEW_ENTITIES.join(' | ')} (default: from the event, else contact)`,
    )
    .option('--json', 'print JSON for scripts')
    .action(async (integration: string, opts: PreviewOptions) => {
      const entity = parseEntity(opts.entity);
      const record = await readRecord(opts.record);
      const target = await resolveTarget(integration);
      const preview = previewMapping({
        provider: target.provider,
        mappings: target.mappings,
        record,
        entity,
      });
      printResult(opts, { integration: target.key, provider: target.provider, ...preview }, () =>
        [
          `${target.key} (${target.provider}), ${preview.entity} mapping from ${preview.mappingSource === 'integration' ? 'the integration' : 'the connector default'}`,
          preview.payload === null
            ? '(the mapping does not compile)'
            : JSON.stringify(preview.payload, null, 2),
          ...preview.issues.map((i) => `${i.severity}: ${i.path}: ${i.message}`),
        ].join('\n'),
      );
      if (preview.payload === null) process.exitCode = 1;
    });
}

function parseEntity(value: string | undefined): PreviewEntity | undefined {
  if (value === undefined) return undefined;
  if ((PREVIEW_ENTITIES as readonly string[]).includes(value)) return value as PreviewEntity;
  throw new Error(
    `--entity: expected one of ${PREVIEW_ENTITIES.join(' | ')}, got "${value}"${didYouMean(value, PREVIEW_ENTITIES)}`,
  );
}

async function readRecord(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(
      `--record ${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`--record ${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A YAML file previews a mapping before it is applied; a key previews what is stored. */
async function resolveTarget(integration: string): Promise<Target> {
  if (/\.ya?ml$/i.test(integration) && existsSync(integration)) {
    const result = await loadIntegrationFile(integration);
    if (result.problems.length > 0) throw new IntegrationConfigError(result.problems);
    const [only, ...more] = result.integrations;
    if (!only || more.length > 0) {
      const keys = result.integrations.map((i) => i.config.key).join(', ');
      throw new Error(
        `${integration} holds ${result.integrations.length} integrations (${keys}): apply it and pass a key`,
      );
    }
    return { key: only.config.key, provider: only.config.provider, mappings: only.config.mappings };
  }
  const ctx = createAppContext();
  try {
    const stored = await getIntegrationByKey(ctx.db, integration);
    if (!stored) {
      const keys = (await listIntegrations(ctx.db)).map((i) => i.key);
      throw new Error(`no integration with key "${integration}"${didYouMean(integration, keys)}`);
    }
    return { key: stored.key, provider: stored.provider, mappings: stored.config.mappings };
  } finally {
    await ctx.close();
  }
}
