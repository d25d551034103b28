import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { Command } from 'commander';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerPublishCommand } from '../../src/cli/commands/publish.js';
import { jobIdFor } from '../../src/events/job-id.js';
import { createEventsQueue } from '../../src/ingest/event-jobs.js';
import { listFailures } from '../../src/store/failures-repo.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { createTestRedis, deletePrefix, testPrefix } from '../helpers/test-redis.js';
import { waitFor } from '../helpers/wait-for.js';
import { contactEvent } from './fixtures.js';

let t: TestDb;
let redis: Redis;
let prefix: string;
let queue: Queue;
let dir: string;
const savedEnv = { ...process.env };

async function publish(...args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const program = new Command('crm-sync').exitOverride();
  registerPublishCommand(program);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const previousExitCode = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'crm-sync', 'publish', ...args]);
    return {
      stdout: write.mock.calls.map((c) => String(c[0])).join(''),
      exitCode: Number(process.exitCode ?? 0),
    };
  } finally {
    write.mockRestore();
    process.exitCode = previousExitCode;
  }
}

async function jsonFile(name: string, content: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

beforeAll(async () => {
  t = await createTestDb();
  redis = createTestRedis();
  prefix = testPrefix('cli');
  queue = createEventsQueue(redis, prefix);
  dir = await mkdtemp(join(tmpdir(), 'crm-sync-cli-'));
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    CRM_SYNC_QUEUE_PREFIX: prefix,
    CRM_SYNC_LOG_LEVEL: 'silent',
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await queue?.close();
  if (redis) {
    await deletePrefix(redis, prefix);
    await redis.quit();
  }
  await rm(dir, { recursive: true, force: true });
  await t?.drop();
});

describe('crm-sync publish FILE', () => {
  it('enqueues the valid events of a file, dead-letters the rest and says so per event', async () => {
    const file = await jsonFile('mixed.json', {
      events: [contactEvent('evt_cli_1'), { ...contactEvent('evt_cli_bad'), occurredAt: 'soon' }],
    });
    const { stdout, exitCode } = await publish(file, '--json');
    expect(JSON.parse(stdout)).toMatchObject({
      accepted: 1,
      duplicate: 0,
      rejected: 1,
      results: [
        { index: 0, id: 'evt_cli_1', status: 'accepted' },
        { index: 1, id: 'evt_cli_bad', status: 'rejected', issues: [{ path: 'occurredAt' }] },
      ],
    });
    expect(exitCode).toBe(1);
    expect(await queue.getJob(jobIdFor('evt_cli_1'))).toBeDefined();
    expect((await listFailures(t.db)).map((f) => f.failureKey)).toContain('ingest:evt_cli_bad');
  });

  it('prints a table for people and reports a re-published event as a duplicate', async () => {
    const file = await jsonFile('one.json', contactEvent('evt_cli_1'));
    const { stdout, exitCode } = await publish(file);
    expect(stdout).toContain('evt_cli_1');
    expect(stdout).toContain('0 accepted, 1 duplicate, 0 rejected');
    expect(exitCode).toBe(0);
  });

  it('names the file when it is not JSON or not events', async () => {
    const broken = await jsonFile('broken.json', '{"id": ');
    await expect(publish(broken)).rejects.toThrow(`${broken} is not valid JSON`);
    const wrongShape = await jsonFile('shape.json', { events: {} });
    await expect(publish(wrongShape)).rejects.toThrow(`${wrongShape}: events: must be an array of events`);
    await expect(publish(join(dir, 'missing.json'))).rejects.toThrow(
      `cannot read ${join(dir, 'missing.json')}`,
    );
  });
});

describe('crm-sync serve', () => {
  it('serves the admin API on CRM_SYNC_HOST/CRM_SYNC_PORT and stops on SIGTERM', async () => {
    const script = `
      import { Command } from 'commander';
      import { registerServeCommand } from './src/cli/commands/serve.ts';
      const program = new Command('crm-sync');
      registerServeCommand(program);
      await program.parseAsync(['node', 'crm-sync', 'serve']);`;
    const token = 'serve-token-for-tests';
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, CRM_SYNC_PORT: '0', CRM_SYNC_ADMIN_TOKEN: token, CRM_SYNC_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // A cold tsx start on a busy two-core machine takes seconds.
      const address = await waitFor(
        'the server to listen',
        () => {
          const line = output.split('\n').find((l) => l.includes('crm-sync admin server listening'));
          return line ? (JSON.parse(line).address as string) : undefined;
        },
        45_000,
      );
      expect((await fetch(`${address}/readyz`)).status).toBe(200);
      const unauthorised = await fetch(`${address}/v1/events`, { method: 'POST' });
      expect(unauthorised.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('admin server shutting down');
    expect(output).not.toContain(token);
  }, 60_000);
});
