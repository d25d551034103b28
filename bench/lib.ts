import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { type AppContext, createAppContext } from '../src/app/context.js';
import { loadEnv } from '../src/config/env.js';
import { createEngine, type Engine, type EngineOptions } from '../src/engine/engine.js';
import { jobIdFor } from '../src/events/job-id.js';
import { publishCrmEvent } from '../src/events/publish.js';
import { IntegrationConfig, type IntegrationConfigInput } from '../src/integrations/schema.js';
import { createLogger, silentLogger } from '../src/logging/logger.js';
import { createCredentialsCipher } from '../src/store/credentials-cipher.js';
import { upsertIntegration } from '../src/store/integrations-repo.js';
import { migrate } from '../src/store/migrate.js';

/**
 * Samples this process's resident set size; `peakMb` is the highest seen. `memoryUsage.rss()`,
 * not `memoryUsage()`: the latter walks the heap's spaces and cost the measured run 0.6% of
 * its CPU at this rate.
 */
export function rssSampler(intervalMs = 50) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return Math.round(peak / 1024 / 1024);
    },
  };
}

/**
 * The share of the machine's CPU time (all cores, every process: the engine, Redis, Postgres,
 * sandboxes, the publisher) that was busy between start and `stop()`, from /proc/stat. Near 1
 * means the run was bounded by the machine, whichever process it was waiting for. Null where
 * /proc/stat does not exist.
 */
export function machineCpuMeter() {
  const read = () => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8')
        .split('\n')[0]!
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number);
      const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
      return { total: fields.reduce((a, b) => a + b, 0), idle };
    } catch {
      return null;
    }
  };
  const start = read();
  return {
    stop(): number | null {
      const end = read();
      if (!start || !end || end.total === start.total) return null;
      return Number((1 - (end.idle - start.idle) / (end.total - start.total)).toFixed(2));
    },
  };
}

/**
 * CPU seconds each kind of process on the machine used between start and `stop()`, from
 * /proc/<pid>/stat: this process (`engine`), Redis, Postgres (every backend), and node children
 * named by `roles` (a substring of their command line, e.g. the sandbox's main.ts). Processes
 * that exit during the run are not counted. Empty where /proc does not exist.
 */
export function processCpuMeter(roles: Record<string, string>) {
  const ticksPerSecond = 100;
  const classify = (pid: string, cmdline: string, comm: string): string | null => {
    if (pid === String(process.pid)) return 'engine';
    if (comm.startsWith('redis-server')) return 'redis';
    if (comm.startsWith('postgres')) return 'postgres';
    for (const [role, needle] of Object.entries(roles)) if (cmdline.includes(needle)) return role;
    return null;
  };
  const read = () => {
    const byPid = new Map<string, { role: string; ticks: number }>();
    let pids: string[] = [];
    try {
      pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return byPid;
    }
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const role = classify(pid, cmdline, comm);
        if (!role) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
        byPid.set(pid, { role, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // The process ended while it was being read.
      }
    }
    return byPid;
  };
  const start = read();
  return {
    stop(): Record<string, number> {
      const seconds: Record<string, number> = {};
      for (const [pid, { role, ticks }] of read()) {
        const used = ticks - (start.get(pid)?.ticks ?? 0);
        seconds[role] = (seconds[role] ?? 0) + used / ticksPerSecond;
      }
      for (const role of Object.keys(seconds)) seconds[role] = Number(seconds[role]!.toFixed(2));
      return seconds;
    },
  };
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A whole crm-sync on a database and queue prefix of its own, dropped afterwards. */
export interface BenchStack {
  /** What a separate worker process needs to join this stack. */
  env: Record<string, string>;
  ctx: AppContext;
  engine: Engine;
  prefix: string;
  apply(config: IntegrationConfigInput): Promise<string>;
  close(): Promise<void>;
}

/** A migrated database of the bench's own; `drop()` removes it. */
export async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = loadEnv();
  const name = `crm_sync_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: withDb(base.DATABASE_URL, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDb(base.DATABASE_URL, name);
  await migrate({ databaseUrl: url });
  return {
    url,
    async drop() {
      const a = new pg.Client({ connectionString: withDb(base.DATABASE_URL, 'postgres') });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function startStack(options: EngineOptions = {}): Promise<BenchStack> {
  const base = loadEnv();
  const database = await createBenchDatabase();
  const url = database.url;
  const key = randomBytes(32);
  const prefix = `crm-sync-bench-${randomBytes(3).toString('hex')}`;
  const env = {
    ...base,
    DATABASE_URL: url,
    CRM_SYNC_QUEUE_PREFIX: prefix,
    CRM_SYNC_ENCRYPTION_KEY: key.toString('base64'),
  };
  const logger = process.env.BENCH_LOG ? createLogger({ level: process.env.BENCH_LOG }) : silentLogger;
  const ctx = createAppContext({ env, logger });
  const engine = createEngine(ctx, { refreshMs: 500, ...options });
  await engine.start();
  const cipher = createCredentialsCipher(key);
  return {
    env: {
      DATABASE_URL: url,
      REDIS_URL: env.REDIS_URL,
      CRM_SYNC_QUEUE_PREFIX: prefix,
      CRM_SYNC_ENCRYPTION_KEY: key.toString('base64'),
    },
    ctx,
    engine,
    prefix,
    async apply(config) {
      const { integration } = await upsertIntegration(ctx.db, IntegrationConfig.parse(config), cipher);
      engine.registry.invalidate();
      return integration.id;
    },
    async close() {
      await engine.stop();
      await deleteBenchKeys(ctx.redis(), prefix);
      await ctx.close();
      await database.drop();
    },
  };
}

function withDb(url: string, db: string) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export function contactCreated(i: number) {
  return {
    id: `evt_bench_${i}`,
    type: 'CRM_CONTACT_CREATED' as const,
    organizationId: 'org_bench',
    occurredAt: new Date().toISOString(),
    version: 1,
    data: {
      id: i,
      externalId: `ctc_${i}`,
      email: `person${i}@example.com`,
      givenName: 'Ada',
      familyName: `Lovelace ${i}`,
      lifecycleStage: 'LEAD' as const,
      status: 'ACTIVE' as const,
    },
  };
}

/** Waits until the engine has built the integration's runtime (its sync worker can start). */
export async function waitForSyncWorker(stack: BenchStack, integrationId: string): Promise<void> {
  await until(
    'the sync worker',
    async () => (await stack.engine.registry.get(integrationId)) !== null,
    10_000,
  );
}

/**
 * Adds `count` contact-created events to `crm-events` in bulk: `addBulk` in slices of 1,000, job
 * id = event id, the fastest way to fill a backlog before a measurement. Each slice is one Redis
 * transaction (about 50 ms of Redis time), so it is not how a live CRM publishes (see
 * `publishOneByOne`). `onEvent` sees each event as it is published.
 */
export async function publishContactCreates(
  queue: Queue,
  count: number,
  onEvent?: (event: ReturnType<typeof contactCreated>) => void,
): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const slice = Array.from({ length: Math.min(1000, count - i) }, (_, k) => contactCreated(i + k));
    if (onEvent) for (const e of slice) onEvent(e);
    await queue.addBulk(slice.map((e) => ({ name: e.type, data: e, opts: { jobId: jobIdFor(e.id) } })));
  }
}

/**
 * Publishes `count` contact-created events the way the CRM backend does (CONTRACT §1): one
 * `publishCrmEvent` per event, `lanes` of them in flight (request handlers publishing at once).
 * `onEvent` sees each event, with its index, as it is published.
 */
export async function publishOneByOne(
  queue: Queue,
  count: number,
  lanes: number,
  onEvent?: (event: ReturnType<typeof contactCreated>, index: number) => void,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        const event = contactCreated(i);
        onEvent?.(event, i);
        await publishCrmEvent(queue, event);
      }
    }),
  );
}

/**
 * Starts `crm-sync worker --only ROLE` as a separate process on the stack's stores, as a
 * deployment that runs routing and syncing apart would. Resolves once it has started.
 */
export async function spawnWorker(
  stack: BenchStack,
  role: 'events' | 'sync',
  env: Record<string, string> = {},
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['bin/crm-sync.js', 'worker', '--only', role], {
    env: { ...process.env, ...stack.env, ...env, CRM_SYNC_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(`the ${role} worker process`, async () => out.includes('crm-sync worker started'), 30_000);
  return {
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Removes a run's Redis keys: its queues and stores (`prefix…`) and the rate limiter's
 * Bottleneck keys (`b_prefix…`).
 */
export async function deleteBenchKeys(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}*`, `b_${prefix}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

/**
 * A publisher in a process of its own (bench/publisher.ts), started and connected ahead of the
 * measurement. `publish(count)` sends the events the way the CRM would (`addBulk` in slices of
 * 1,000) and resolves with each event's `occurredAt` and the CPU seconds the publisher spent,
 * once the last slice is on the queue.
 */
export async function startPublisher(stack: BenchStack): Promise<{
  /** `one-by-one`: as a live CRM publishes (`publishOneByOne`); `bulk`: fills a backlog fast. */
  publish(count: number, how?: 'one-by-one' | 'bulk'): Promise<{ occurredAt: number[]; cpuSeconds: number }>;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/publisher.ts'], {
    env: { ...process.env, ...stack.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let out = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
  });
  // 'close', not 'exit': it comes after the child's stdout has been read to the end.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await until('the publisher process', async () => out.includes('publisher ready\n'), 30_000);
  return {
    async publish(count, how = 'one-by-one') {
      out = '';
      child.stdin!.write(`${count} ${how}\n`);
      const code = await exited;
      process.removeListener('exit', kill);
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{'))
        throw new Error(`bench: the publisher failed (exit ${code}): ${out}`);
      return JSON.parse(line) as { occurredAt: number[]; cpuSeconds: number };
    },
  };
}
