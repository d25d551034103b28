import type { z } from 'zod';
import type { Env } from '../config/env.js';
import { RateLimitedError } from '../connectors/errors.js';
import { getConnector } from '../connectors/registry.js';
import type {
  ConnectorClient,
  ConnectorContext,
  ConnectorDefinition,
  Operation,
  ProviderRequest,
  RateLimit,
} from '../connectors/types.js';
import type { EntityType, EventType } from '../events/event-types.js';
import type { Integration } from '../integrations/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Mappings } from '../mappings/schema.js';
import { providerRateLimitedTotal, providerRequestsTotal } from '../metrics/provider-metrics.js';
import type { Db } from '../store/db.js';
import { findLinks, linkKey } from '../store/links-repo.js';
import { type AccountKeyCache, resolveAccountKey } from './account-key.js';
import {
  type CompiledMappings,
  compileIntegrationFilter,
  compileIntegrationMappings,
} from './compile-integration.js';
import { resolveOperation } from './entity-ref.js';
import { MicroBatcher } from './micro-batcher.js';
import type { AccountLimiter } from './rate-limiter.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

/** How many times one request is retried after a 429, inside one push, before the push gives up. */
const MAX_RATE_LIMITED_RETRIES = 5;

/**
 * Everything the engine needs to sync records of one integration, built once from its stored
 * configuration: the connector client, compiled mappings and filter, the account's limiters.
 */
export interface IntegrationRuntime {
  integration: Integration;
  connector: ConnectorDefinition;
  client: ConnectorClient;
  mappings: CompiledMappings;
  matches(snapshot: Record<string, unknown>): boolean;
  subscribes(type: EventType): boolean;
  operationFor(type: EventType, entityType: EntityType): Operation | null;
  retry: RetryPolicy;
  /** Names the provider account whose shared budget `limiter` is (`MAILCHIMP:account-…`). */
  accountKey: string;
  limiter: AccountLimiter;
  /**
   * Set when the account could not be looked up and a fallback key stands in: the registry
   * rebuilds the runtime after this time (epoch ms), which asks again.
   */
  rebuildAt?: number | undefined;
  /**
   * The request function for one push: counts every provider request into `scope.apiCalls`
   * and sends them at the push's priority unless a request says otherwise.
   */
  requestFor(scope: PushScope): ProviderRequest;
  /** Last daily quota the provider reported, for pacing bulk work. */
  quota: { dailyMax: number; dailyRemaining: number; resetsAt?: Date | undefined } | null;
  close(): Promise<void>;
}

/** What the engine tracks of one push: its priority, and how many provider requests it made. */
export interface PushScope {
  priority: 'live' | 'bulk';
  apiCalls: number;
}

export interface RuntimeDeps {
  db: Db;
  logger: Logger;
  limiters: { forAccount(accountKey: string, limit: RateLimit): AccountLimiter };
  /** Where account lookups (`ConnectorDefinition.accountLookup`) are kept; without it each build asks. */
  accountKeys?: AccountKeyCache | undefined;
  /** Provider base URLs from the environment (HUBSPOT_BASE_URL, …), applied when settings give none. */
  baseUrls?: Partial<Record<string, string | undefined>>;
}

/** Provider base URLs from the environment, applied to integrations whose settings give none. */
export function baseUrlsFromEnv(env: Env): Partial<Record<string, string | undefined>> {
  return {
    HUBSPOT: env.HUBSPOT_BASE_URL,
    MAILCHIMP: env.MAILCHIMP_BASE_URL,
    SLACK: env.SLACK_API_URL,
    SEGMENT: env.SEGMENT_HOST,
  };
}

/**
 * The integration's `rateLimit` changes what it names: `{ max, perMs }` alone keeps the
 * connector's connection cap (Mailchimp's 10), which the provider enforces whatever request rate
 * an admin chooses.
 */
export function effectiveRateLimit(
  connectorLimit: RateLimit,
  override: Partial<RateLimit> | undefined,
): RateLimit {
  return override ? { ...connectorLimit, ...override } : connectorLimit;
}

export async function buildRuntime(
  integration: Integration,
  credentials: Record<string, unknown>,
  deps: RuntimeDeps,
): Promise<IntegrationRuntime> {
  const connector = getConnector(integration.provider);
  const config = integration.config;
  const settings = parseOrExplain(
    connector.settings,
    withBaseUrl(config.settings, integration.provider, deps),
    'settings',
    integration.key,
  );
  const secrets = parseOrExplain(connector.credentials, credentials, 'credentials', integration.key, true);
  const limit = effectiveRateLimit(connector.rateLimit, config.rateLimit);
  const logger = deps.logger.child({ integration: integration.key, provider: integration.provider });
  const { accountKey, retryAt } = await resolveAccountKey({
    provider: integration.provider,
    connector,
    settings,
    credentials: secrets,
    cache: deps.accountKeys,
    baseUrl: (settings as { baseUrl?: string | null }).baseUrl,
    logger,
  });
  const limiter = deps.limiters.forAccount(accountKey, limit);
  const kindLimiters = new Map(
    Object.entries(connector.extraRateLimits ?? {}).map(([kind, l]) => [
      kind,
      deps.limiters.forAccount(`${accountKey}:${kind}`, l),
    ]),
  );

  const runtime: IntegrationRuntime = {
    integration,
    connector,
    client: undefined as unknown as ConnectorClient,
    // Per entity, as the mapping preview does: an integration that maps only its lists still
    // syncs contacts with the connector's default contact mapping.
    mappings: compileIntegrationMappings({
      ...(connector.defaultMappings as Mappings | undefined),
      ...config.mappings,
    }),
    matches: compileIntegrationFilter(config.filter),
    subscribes: (type) => (config.events ?? connector.defaultEvents ?? []).includes(type),
    operationFor: (type, entityType) =>
      resolveOperation(type, entityType, connector.capabilities.push[entityType]),
    retry: { ...DEFAULT_RETRY_POLICY, ...config.retry },
    accountKey,
    limiter,
    rebuildAt: retryAt,
    requestFor: (scope) => (call, options) =>
      send(call, options?.priority ?? scope.priority, options?.kind, scope),
    quota: null,
    async close() {
      await runtime.client.close?.();
    },
  };

  const metricLabels = { integration: integration.key, provider: integration.provider };

  async function send<T>(
    call: () => Promise<T>,
    priority: 'live' | 'bulk',
    kind: string | undefined,
    scope?: PushScope,
  ): Promise<T> {
    const target = (kind && kindLimiters.get(kind)) || limiter;
    // Counted when the limiter starts it: a request that found no slot was never made.
    const started = () => {
      providerRequestsTotal.inc(metricLabels);
      return call();
    };
    for (let attempt = 1; ; attempt++) {
      if (scope) scope.apiCalls += 1;
      try {
        if (target !== limiter)
          return await target.schedule(() => limiter.schedule(started, { priority }), { priority });
        return await limiter.schedule(started, { priority });
      } catch (error) {
        if (error instanceof RateLimitedError)
          providerRateLimitedTotal.inc({ ...metricLabels, scope: error.scope });
        // A 429 means the request did not happen: pause the account for every process and try
        // again, so the records of this push are not failed for the provider's congestion.
        if (
          error instanceof RateLimitedError &&
          error.scope === 'window' &&
          attempt <= MAX_RATE_LIMITED_RETRIES
        ) {
          logger.warn({ retryAfterMs: error.retryAfterMs }, 'provider rate limit hit; pausing the account');
          await limiter.pauseFor(error.retryAfterMs);
          continue;
        }
        throw error;
      }
    }
  }

  // A connector asks for the links of a push's other records one at a time (an activity's
  // contact, say), from many records at once: one query per moment instead of one each.
  const links = new MicroBatcher<{ entityType: string; entityId: string }, LinkSeen | null>({
    name: `${integration.key} link lookups`,
    maxSize: 500,
    windowMs: 1,
    flush: async (refs) => {
      const found = await findLinks(deps.db, integration.id, refs);
      return refs.map((ref) => {
        const link = found.get(linkKey(ref.entityType, ref.entityId));
        return link ? { externalId: link.externalId, state: link.state } : null;
      });
    },
  });
  const ctx: ConnectorContext<unknown, unknown> = {
    integration: {
      id: integration.id,
      key: integration.key,
      organizationId: integration.organizationId,
      name: integration.name,
    },
    settings,
    credentials: secrets,
    logger,
    request: (call, options) => send(call, options?.priority ?? 'live', options?.kind),
    lookupLink: (entityType, entityId) => links.add({ entityType, entityId }),
    reportQuota(quota) {
      runtime.quota = quota;
    },
  };
  runtime.client = connector.createClient(ctx);
  return runtime;
}

type LinkSeen = { externalId: string | null; state: Record<string, unknown> };

function withBaseUrl(settings: Record<string, unknown>, provider: string, deps: RuntimeDeps) {
  const fromEnv = deps.baseUrls?.[provider];
  if (fromEnv && (settings.baseUrl === undefined || settings.baseUrl === null))
    return { ...settings, baseUrl: fromEnv };
  return settings;
}

function parseOrExplain<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  key: string,
  secret = false,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Credential values must not appear in the message: name the paths only.
  const problems = parsed.error.issues
    .map((i) => `${what}.${i.path.join('.')}: ${secret ? i.code : i.message}`)
    .join('; ');
  throw new IntegrationConfigError(`integration ${key}: ${problems}`);
}

export class IntegrationConfigError extends Error {
  override name = 'IntegrationConfigError';
}
