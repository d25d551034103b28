import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { servicesFile } from './paths.js';

/** Written by `scripts/services.mjs` when it had to start servers of its own on other ports. */
const ServicesFile = z.object({ redisUrl: z.string(), databaseUrl: z.string() }).partial();

function readServicesFile(): z.infer<typeof ServicesFile> {
  try {
    return ServicesFile.parse(JSON.parse(readFileSync(servicesFile, 'utf8')));
  } catch {
    return {};
  }
}

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
  CRM_SYNC_QUEUE_PREFIX: z.string().min(1).default('crm-sync'),
  CRM_SYNC_ADMIN_TOKEN: z.string().optional(),
  CRM_SYNC_ENCRYPTION_KEY: z.string().optional(),
  CRM_SYNC_HOST: z.string().default('127.0.0.1'),
  CRM_SYNC_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
  CRM_SYNC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Unset: the engine's own defaults apply (docs/engine.md, "Tuning").
  /** Events the crm-events consumer handles at once per process. */
  CRM_SYNC_EVENT_CONCURRENCY: z.coerce.number().int().min(1).max(5000).optional(),
  /** How long a state change waits for newer changes of its record before it is pushed. */
  CRM_SYNC_COALESCE_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  CRM_API_URL: optionalUrl,
  CRM_API_KEY: z.string().optional(),
  HUBSPOT_BASE_URL: optionalUrl,
  MAILCHIMP_BASE_URL: optionalUrl,
  SLACK_API_URL: optionalUrl,
  SEGMENT_HOST: optionalUrl,
});
export type RawEnv = z.infer<typeof EnvSchema>;

export interface Env extends RawEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/crm_sync';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Reads the environment once. `DATABASE_URL`/`REDIS_URL` win; else the servers the services
 * script found or started; else the default local ports.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment:\n${lines.join('\n')}`);
  }
  const services = readServicesFile();
  return {
    ...parsed.data,
    DATABASE_URL: parsed.data.DATABASE_URL ?? services.databaseUrl ?? DEFAULT_DATABASE_URL,
    REDIS_URL: parsed.data.REDIS_URL ?? services.redisUrl ?? DEFAULT_REDIS_URL,
  };
}
