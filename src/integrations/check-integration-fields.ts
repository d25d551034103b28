import type { AppContext } from '../app/context.js';
import { isConnectorError } from '../connectors/errors.js';
import { connectors } from '../connectors/registry.js';
import { baseUrlsFromEnv, buildRuntime, type IntegrationRuntime } from '../engine/integration-runtime.js';
import { createRateLimiters } from '../engine/rate-limiter.js';
import type { Mappings } from '../mappings/schema.js';
import { type CatalogIssue, checkMappingAgainstCatalog } from './field-catalog-check.js';
import { type IntegrationConfig, unsavedIntegration } from './schema.js';

export interface FieldCheckResult {
  /** Entities whose targets were checked against a live catalog. */
  checked: string[];
  issues: CatalogIssue[];
  /** Set when the provider could not be asked (network, credentials): nothing was checked. */
  unreachable?: string;
}

/**
 * Fetches the provider's field catalog for every entity the integration maps (with the integration's own
 * credentials, through the shared limiter) and checks the mapping's targets against it.
 * Providers with a free-form payload (an empty catalog) are not checked.
 */
export async function checkIntegrationFields(
  rt: IntegrationRuntime,
  mappings: Mappings | undefined,
): Promise<FieldCheckResult> {
  const result: FieldCheckResult = { checked: [], issues: [] };
  // Only what the admin wrote: a connector's default mapping adapts itself to the account
  // (e.g. Mailchimp sends LIFECYCLE only to audiences that have it).
  for (const entityType of ['contact', 'company', 'activity'] as const) {
    const mapping = mappings?.[entityType];
    if (!mapping || mapping.fields.length === 0) continue;
    let catalog: Awaited<ReturnType<typeof rt.client.describeFields>>;
    try {
      catalog = await rt.client.describeFields(entityType);
    } catch (error) {
      const kind = isConnectorError(error) ? `${error.kind}: ` : '';
      result.unreachable = `could not read ${rt.connector.displayName}'s ${entityType} fields (${kind}${(error as Error).message})`;
      return result;
    }
    if (catalog.length === 0) continue;
    result.checked.push(entityType);
    const explain = (target: string) => rt.client.explainMissingField?.(entityType, target);
    result.issues.push(
      ...checkMappingAgainstCatalog(entityType, mapping, catalog, rt.connector.displayName, explain),
    );
  }
  return result;
}

/**
 * The same check for a configuration that is not stored yet (`integrations apply`): builds a
 * throw-away runtime with the configuration's own credentials.
 */
export async function checkConfigFields(
  ctx: AppContext,
  config: IntegrationConfig,
): Promise<FieldCheckResult> {
  // A provider whose connector is not in this build has no catalog to check against.
  if (!connectors[config.provider]) return { checked: [], issues: [] };
  const limiters = createRateLimiters({
    redisUrl: ctx.env.REDIS_URL,
    prefix: ctx.env.CRM_SYNC_QUEUE_PREFIX,
    logger: ctx.logger,
  });
  const { integration, credentials } = unsavedIntegration(config);
  let rt: IntegrationRuntime | undefined;
  try {
    rt = await buildRuntime(integration, credentials, {
      db: ctx.db,
      logger: ctx.logger,
      limiters,
      baseUrls: baseUrlsFromEnv(ctx.env),
    });
    return await checkIntegrationFields(rt, config.mappings);
  } finally {
    await rt?.close();
    await limiters.close();
  }
}
