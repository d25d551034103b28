import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { projectRoot } from '../../src/config/paths.js';
import { adminUrl, withDatabase } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

const script = join(projectRoot, 'scripts', 'services.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the services script as `npm test` does: a child process that must exit on its own. */
function runScript(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Ports nothing listens on (free when asked; distinct from each other). */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((s) => once(s, 'listening')));
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** The environment of a machine where REDIS_URL/DATABASE_URL are unset. */
function baseEnv(): NodeJS.ProcessEnv {
  const { REDIS_URL: _r, DATABASE_URL: _d, REDIS_SERVER_BIN: _b, ...rest } = process.env;
  return rest;
}

async function redisIdentity(url: string): Promise<{ pong: string; processId: string; runId: string }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pong = await redis.ping();
    const info = await redis.info('server');
    return {
      pong,
      processId: /process_id:(\d+)/.exec(info)?.[1] ?? '',
      runId: /run_id:(\w+)/.exec(info)?.[1] ?? '',
    };
  } finally {
    redis.disconnect();
  }
}

async function postgresIdentity(url: string): Promise<{ one: number; database: string; startedAt: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT 1 AS one, current_database() AS database, pg_postmaster_start_time()::text AS "startedAt"',
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

/** Whether nothing listens on the port any more (the connection is refused, not just slow). */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('scripts/services.mjs on a machine with nothing on the default ports', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let redisPort: number;
  let pgPort: number;
  let firstRedis: { processId: string; runId: string } | undefined;

  beforeAll(async () => {
    // Under /tmp with mode 755: as root, PostgreSQL runs as `postgres` and must enter it.
    home = await mkdtemp(join(tmpdir(), 'crm-sync-services-'));
    await chmod(home, 0o755);
    const [probeRedis, probePg, ownRedis, ownPg] = await freePorts(4);
    redisPort = ownRedis!;
    pgPort = ownPg!;
    env = {
      ...baseEnv(),
      CRM_SYNC_HOME: home,
      CRM_SYNC_PROBE_REDIS_PORT: String(probeRedis),
      CRM_SYNC_PROBE_PG_PORT: String(probePg),
      CRM_SYNC_REDIS_PORT: String(redisPort),
      CRM_SYNC_PG_PORT: String(pgPort),
    };
  });

  afterAll(async () => {
    await runScript(['--stop', '--quiet'], env, 30_000);
    // Should --stop itself be broken, the servers still must not outlive the test.
    if (firstRedis && Number(firstRedis.processId) > 0) {
      try {
        process.kill(Number(firstRedis.processId), 'SIGKILL');
      } catch {}
    }
    try {
      const pid = Number(
        (await readFile(join(home, 'postgres', 'data', 'postmaster.pid'), 'utf8')).split('\n')[0],
      );
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {}
    await rm(home, { recursive: true, force: true });
  });

  it('starts its own Redis and PostgreSQL on its own ports, which answer after it exits', async () => {
    const run = await runScript([], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`started the project's own redis-server on 127.0.0.1:${redisPort}`);
    expect(run.stdout).toContain(`started the project's own PostgreSQL on 127.0.0.1:${pgPort}`);

    const services = JSON.parse(await readFile(join(home, 'services.json'), 'utf8'));
    expect(services).toEqual({
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      databaseUrl: `postgres://postgres@127.0.0.1:${pgPort}/crm_sync`,
    });

    const redis = await redisIdentity(services.redisUrl);
    expect(redis.pong).toBe('PONG');
    firstRedis = redis;
    const postgres = await postgresIdentity(services.databaseUrl);
    expect(postgres).toMatchObject({ one: 1, database: 'crm_sync' });
  }, 90_000);

  it('starts nothing new on a second run and prints nothing with --quiet', async () => {
    const services = JSON.parse(await readFile(join(home, 'services.json'), 'utf8'));
    const postgresBefore = await postgresIdentity(services.databaseUrl);

    const run = await runScript(['--quiet'], env);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });

    const redisAfter = await redisIdentity(services.redisUrl);
    expect({ processId: redisAfter.processId, runId: redisAfter.runId }).toEqual({
      processId: firstRedis?.processId,
      runId: firstRedis?.runId,
    });
    expect((await postgresIdentity(services.databaseUrl)).startedAt).toBe(postgresBefore.startedAt);
  });

  it('stops with --stop the servers it started, and leaves the machine’s own servers running', async () => {
    const run = await runScript(['--stop'], env, 30_000);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`stopped the project's own server on 127.0.0.1:${redisPort}`);
    expect(run.stdout).toContain(`stopped the project's own server on 127.0.0.1:${pgPort}`);

    await waitFor('own Redis to refuse connections', () => refuses(redisPort), 10_000);
    await waitFor('own PostgreSQL to refuse connections', () => refuses(pgPort), 10_000);
    await expect(readFile(join(home, 'services.json'), 'utf8')).rejects.toThrow(/ENOENT/);

    const shared = loadEnv();
    expect((await redisIdentity(shared.REDIS_URL)).pong).toBe('PONG');
    expect((await postgresIdentity(adminUrl(shared.DATABASE_URL))).one).toBe(1);
  });
});

describe('scripts/services.mjs with REDIS_URL and DATABASE_URL set', () => {
  const shared = loadEnv();
  const missingDb = `crm_sync_svc_${randomBytes(5).toString('hex')}`;
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'crm-sync-services-env-'));
  });

  afterAll(async () => {
    const admin = new pg.Client(adminUrl(shared.DATABASE_URL));
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${missingDb} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    await rm(home, { recursive: true, force: true });
  });

  it('creates the database DATABASE_URL names when the server is reachable and it is missing', async () => {
    const databaseUrl = withDatabase(shared.DATABASE_URL, missingDb);
    const run = await runScript([], {
      ...baseEnv(),
      CRM_SYNC_HOME: home,
      REDIS_URL: shared.REDIS_URL,
      DATABASE_URL: databaseUrl,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('database created');
    expect((await postgresIdentity(databaseUrl)).database).toBe(missingDb);
    // The env's URLs win anyway and may hold passwords: they are not copied to disk.
    await expect(readFile(join(home, 'services.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('names REDIS_URL, without its password, when that server cannot be reached', async () => {
    const [closed] = await freePorts(1);
    const run = await runScript(['--quiet'], {
      ...baseEnv(),
      CRM_SYNC_HOME: home,
      REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${closed}`,
      DATABASE_URL: shared.DATABASE_URL,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `services: redis: REDIS_URL redis://:***@127.0.0.1:${closed} is not reachable`,
    );
    expect(run.stderr).toContain('ECONNREFUSED');
    expect(run.stderr + run.stdout).not.toContain('s3cret-pw');
  });

  it('names the variable when a port setting is not a number', async () => {
    const bad = await runScript(['--quiet'], {
      ...baseEnv(),
      CRM_SYNC_HOME: home,
      DATABASE_URL: shared.DATABASE_URL,
      CRM_SYNC_PROBE_REDIS_PORT: 'six',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('CRM_SYNC_PROBE_REDIS_PORT=six is not a port number');
  });

  it('refuses an unknown option and shows its usage', async () => {
    const run = await runScript(['--start'], baseEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option --start');
    expect(run.stdout).toContain('usage: node scripts/services.mjs');
  });

  it.runIf(process.getuid?.() === 0)(
    'explains, as root, that the postgres user cannot enter a private parent of the state folder',
    async () => {
      const [closedPg, ownPg] = await freePorts(2);
      const privateHome = join(home, 'private'); // `home` is mkdtemp's: mode 700
      const run = await runScript(['--quiet'], {
        ...baseEnv(),
        CRM_SYNC_HOME: privateHome,
        REDIS_URL: shared.REDIS_URL,
        CRM_SYNC_PROBE_PG_PORT: String(closedPg),
        CRM_SYNC_PG_PORT: String(ownPg),
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `PostgreSQL runs as user "postgres", which cannot enter ${home} (mode 700)`,
      );
      expect(run.stderr).toContain('CRM_SYNC_HOME');
    },
  );
});
