import { z } from 'zod';
import { PROVIDERS } from '../connectors/types.js';
import { EventType } from '../events/event-types.js';
import { Filter } from '../filters/schema.js';
import { Mappings } from '../mappings/schema.js';

/**
 * An integration as admins declare it (CONTRACT §2). Provider-specific `settings` and
 * `credentials` are checked a second time against the connector's own schemas.
 */
export const IntegrationKey = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,99}$/,
    'lowercase letters, digits, "-" and "_", starting with a letter or digit',
  );

const Duration = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s, 5m or 1h')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const n = Number.parseInt(v, 10);
    const unit = v.replace(/^\d+/, '');
    return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[unit as 'ms' | 's' | 'm' | 'h'];
  });

export const Reconcile = z
  .object({
    pull: z.boolean().default(false),
    every: Duration.default(300_000),
    conflict: z.enum(['crm_wins', 'provider_wins', 'newest_wins']).default('newest_wins'),
  })
  .strict();

export const RateLimitOverride = z
  .object({
    max: z.number().int().positive(),
    perMs: z.number().int().positive(),
    maxConcurrent: z.number().int().positive().optional(),
  })
  .strict();

export const WriteBack = z
  .object({
    /** The CRM custom property that receives the provider's id. */
    property: z.string().min(1),
  })
  .strict();

export const IntegrationConfig = z
  .object({
    key: IntegrationKey,
    organizationId: z.union([z.string().min(1), z.number().int()]).transform(String),
    provider: z.enum(PROVIDERS),
    name: z.string().min(1),
    enabled: z.boolean().default(true),
    credentials: z.record(z.string(), z.unknown()).default({}),
    settings: z.record(z.string(), z.unknown()).default({}),
    /** Subscribed event types; the connector's defaults when left out. */
    events: z.array(EventType).optional(),
    filter: Filter.optional(),
    mappings: Mappings.optional(),
    reconcile: Reconcile.optional(),
    rateLimit: RateLimitOverride.optional(),
    writeBack: WriteBack.optional(),
    /** Retry policy overrides. */
    retry: z
      .object({
        attempts: z.number().int().min(1).max(50).default(8),
        backoffMs: z.number().int().positive().default(1000),
      })
      .strict()
      .optional(),
  })
  .strict();
export type IntegrationConfig = z.infer<typeof IntegrationConfig>;
export type IntegrationConfigInput = z.input<typeof IntegrationConfig>;

/** The config as stored in `integrations.config`: credentials live apart, encrypted. */
export type StoredIntegrationConfig = Omit<IntegrationConfig, 'credentials'>;

/** An integration as stored: its config plus identity and operational status; never its credentials. */
export interface Integration {
  id: string;
  key: string;
  organizationId: string;
  provider: IntegrationConfig['provider'];
  name: string;
  enabled: boolean;
  status: 'active' | 'paused';
  statusReason: string | null;
  pausedUntil: Date | null;
  config: StoredIntegrationConfig;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A config as the integration it would be once applied, without storing it: what a runtime is
 * built from to check a config before `apply` (and in benchmarks and tests). Active, as applied.
 */
export function unsavedIntegration(
  config: IntegrationConfig,
  id = '00000000-0000-0000-0000-000000000000',
): { integration: Integration; credentials: IntegrationConfig['credentials'] } {
  const { credentials, ...stored } = config;
  const now = new Date();
  return {
    integration: {
      id,
      key: config.key,
      organizationId: config.organizationId,
      provider: config.provider,
      name: config.name,
      enabled: config.enabled,
      status: 'active',
      statusReason: null,
      pausedUntil: null,
      config: stored,
      createdAt: now,
      updatedAt: now,
    },
    credentials,
  };
}
