import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { type AppContext, createAppContext } from '../../src/app/context.js';
import { loadEnv } from '../../src/config/env.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { CrmEventInput } from '../../src/events/envelope.js';
import { publishCrmEvent } from '../../src/events/publish.js';
import { IntegrationConfig, type IntegrationConfigInput } from '../../src/integrations/schema.js';
import { createLogger, silentLogger } from '../../src/logging/logger.js';
import { createCredentialsCipher } from '../../src/store/credentials-cipher.js';
import { type UpsertResult, upsertIntegration } from '../../src/store/integrations-repo.js';
import { createTestDb, type TestDb } from './test-db.js';
import { deletePrefix, testPrefix } from './test-redis.js';

/**
 * A whole crm-sync on real Redis and Postgres, isolated for one test file: its own database,
 * its own queue prefix, its own encryption key. Events go in through the `crm-events` queue
 * exactly as the CRM publishes them.
 */
export interface EngineHarness {
  ctx: AppContext;
  engine: Engine;
  testDb: TestDb;
  prefix: string;
  /** The environment a separate worker process needs to join this harness's stores. */
  env: Record<string, string>;
  applyIntegration(config: IntegrationConfigInput): Promise<UpsertResult>;
  publish(event: CrmEventInput): Promise<void>;
  /** A second, independent engine (another worker process's view) on the same stores. */
  startAnotherEngine(options?: EngineOptions): Promise<{ engine: Engine; ctx: AppContext }>;
  close(): Promise<void>;
}

export async function startEngineHarness(
  options: EngineOptions = {},
  envOverrides: Record<string, string> = {},
): Promise<EngineHarness> {
  const testDb = await createTestDb();
  const prefix = testPrefix('e2e');
  const key = randomBytes(32).toString('base64');
  const env = {
    ...loadEnv(),
    DATABASE_URL: testDb.url,
    CRM_SYNC_QUEUE_PREFIX: prefix,
    CRM_SYNC_ENCRYPTION_KEY: key,
    ...envOverrides,
  };
  const contexts: AppContext[] = [];
  const engines: Engine[] = [];
  const newContext = () => {
    // CRM_SYNC_TEST_LOG=debug shows the engine's log when a test needs explaining.
    const level = process.env.CRM_SYNC_TEST_LOG;
    const ctx = createAppContext({ env, logger: level ? createLogger({ level }) : silentLogger });
    contexts.push(ctx);
    return ctx;
  };
  const ctx = newContext();
  const engine = createEngine(ctx, { coalesceMs: 50, refreshMs: 200, ...options });
  engines.push(engine);
  await engine.start();
  const cipher = createCredentialsCipher(Buffer.from(key, 'base64'));
  const queue: Queue = engine.eventsQueue;

  return {
    ctx,
    engine,
    testDb,
    prefix,
    env: {
      DATABASE_URL: testDb.url,
      REDIS_URL: env.REDIS_URL,
      CRM_SYNC_QUEUE_PREFIX: prefix,
      CRM_SYNC_ENCRYPTION_KEY: key,
    },
    async applyIntegration(config) {
      const result = await upsertIntegration(ctx.db, IntegrationConfig.parse(config), cipher);
      // Start its sync worker now rather than at the next refresh tick.
      for (const e of engines) e.registry.invalidate();
      return result;
    },
    async publish(event) {
      await publishCrmEvent(queue, event);
    },
    async startAnotherEngine(more = {}) {
      const other = newContext();
      const e = createEngine(other, { coalesceMs: 50, refreshMs: 200, ...options, ...more });
      engines.push(e);
      await e.start();
      return { engine: e, ctx: other };
    },
    async close() {
      await Promise.allSettled(engines.map((e) => e.stop()));
      const redis = ctx.redis();
      await deletePrefix(redis, prefix).catch(() => {});
      await Promise.allSettled(contexts.map((c) => c.close()));
      await testDb.drop();
    },
  };
}

let counter = 0;
/** A contact event with sensible defaults; `version` orders it. */
export function contactEvent(
  over: {
    id?: string;
    type?: string;
    contactId?: number;
    version?: number;
    data?: Record<string, unknown>;
  } = {},
): CrmEventInput {
  counter += 1;
  const contactId = over.contactId ?? 1;
  return {
    id: over.id ?? `evt_${Date.now().toString(36)}_${counter}`,
    type: (over.type ?? 'CRM_CONTACT_UPDATED') as 'CRM_CONTACT_UPDATED',
    organizationId: 'org_1',
    occurredAt: new Date().toISOString(),
    ...(over.version !== undefined ? { version: over.version } : {}),
    data: {
      id: contactId,
      externalId: `ctc_${contactId}`,
      email: `person${contactId}@example.com`,
      givenName: 'Ada',
      familyName: 'Lovelace',
      status: 'ACTIVE',
      ...over.data,
    },
  };
}
