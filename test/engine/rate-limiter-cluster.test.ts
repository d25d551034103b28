import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimit } from '../../src/connectors/types.js';
import { createTestRedis, deletePrefix, testPrefix, testRedisUrl } from '../helpers/test-redis.js';
import { waitFor } from '../helpers/wait-for.js';

const WORKER = fileURLToPath(new URL('../fixtures/rate-limit-worker.ts', import.meta.url));

interface Worker {
  child: ChildProcess;
  starts: number[];
  ends: number[];
  done: Promise<string[]>;
  send(message: unknown): void;
}

const prefix = testPrefix('ratelimit-cluster');
const redis = createTestRedis();
const workers: Worker[] = [];

/** Forks a worker process with limiters of its own; it reports every job start to us. */
async function startWorker(): Promise<Worker> {
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, RATE_LIMIT_REDIS_URL: testRedisUrl(), RATE_LIMIT_PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const starts: number[] = [];
  const ends: number[] = [];
  let finish: (errors: string[]) => void = () => {};
  const done = new Promise<string[]>((resolve) => (finish = resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`rate-limit worker exited early (${code})`)));
    child.on('message', (message: { type: string; at?: number; errors?: string[] }) => {
      if (message.type === 'ready') resolve();
      if (message.type === 'start') starts.push(message.at!);
      if (message.type === 'end') ends.push(message.at!);
      if (message.type === 'done') finish(message.errors!);
    });
  });
  await ready;
  const worker = { child, starts, ends, done, send: (m: unknown) => child.send(m as object) };
  workers.push(worker);
  return worker;
}

/** The most requests in flight at once, from start and end times (an end frees before a start at the same ms). */
function mostInFlight(starts: number[], ends: number[]): number {
  const events = [...starts.map((t) => [t, 1] as const), ...ends.map((t) => [t, -1] as const)];
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let current = 0;
  let most = 0;
  for (const [, delta] of events) {
    current += delta;
    most = Math.max(most, current);
  }
  return most;
}

/** The most starts found in any window [t, t + perMs) that begins at a start. */
function busiestWindow(starts: number[], perMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + perMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

beforeAll(async () => {
  await redis.ping();
});

afterEach(async () => {
  await Promise.all(
    workers.splice(0).map(async (w) => {
      if (w.child.exitCode !== null) return;
      const exited = new Promise((r) => w.child.once('exit', r));
      w.send({ type: 'exit' });
      await exited;
    }),
  );
});

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await deletePrefix(redis, `b_${prefix}`);
  await redis.quit();
});

describe('rate limits shared by worker processes', () => {
  it('keeps every sliding window of two processes at or under the limit, and uses most of it', async () => {
    const [a, b] = await Promise.all([startWorker(), startWorker()]);
    const limit: RateLimit = { max: 10, perMs: 1000 };
    const run = { type: 'run', account: 'HUBSPOT:shared', limit, count: 20, jobMs: 20 };
    a!.send(run);
    b!.send(run);
    expect(await a!.done).toEqual([]);
    expect(await b!.done).toEqual([]);

    const all = [...a!.starts, ...b!.starts].sort((x, y) => x - y);
    expect(all).toHaveLength(40);
    expect(a!.starts.length).toBeGreaterThan(0);
    expect(b!.starts.length).toBeGreaterThan(0);
    expect(busiestWindow(all, limit.perMs)).toBeLessThanOrEqual(limit.max);
    // 40 starts at 10 per second need at least 3.9 s; near the limit means not much more.
    const span = all.at(-1)! - all[0]!;
    const rate = ((all.length - 1) / span) * limit.perMs;
    expect(rate).toBeGreaterThanOrEqual(0.8 * limit.max);
  });

  it('a pause set in one process holds back every start in the other until it ends', async () => {
    const [runner, pauser] = await Promise.all([startWorker(), startWorker()]);
    const limit: RateLimit = { max: 20, perMs: 1000 };
    const account = 'MAILCHIMP:paused';
    runner!.send({ type: 'run', account, limit, count: 30, jobMs: 5 });
    await waitFor('the runner to start a few jobs', () => runner!.starts.length >= 3);

    const pausedAt = new Promise<number>((resolve) =>
      pauser!.child.on(
        'message',
        (m: { type: string; at?: number }) => m.type === 'paused' && resolve(m.at!),
      ),
    );
    pauser!.send({ type: 'pause', account, limit, ms: 800 });
    const at = await pausedAt;
    expect(await runner!.done).toEqual([]);

    // Redis applied the pause before the pauser heard back (`at`); allow a few ms either side
    // for a start whose pause check was answered just before the pause was set.
    const during = runner!.starts.filter((t) => t > at + 25 && t < at + 775);
    expect(during).toEqual([]);
    expect(runner!.starts.filter((t) => t >= at + 775)).not.toHaveLength(0);
    expect(runner!.starts).toHaveLength(30);
  });

  it('two processes together never run more requests at once than maxConcurrent', async () => {
    const [a, b] = await Promise.all([startWorker(), startWorker()]);
    const limit: RateLimit = { max: 1000, perMs: 1000, maxConcurrent: 2 };
    const run = { type: 'run', account: 'MAILCHIMP:connections', limit, count: 6, jobMs: 80 };
    a!.send(run);
    b!.send(run);
    expect(await a!.done).toEqual([]);
    expect(await b!.done).toEqual([]);

    const starts = [...a!.starts, ...b!.starts];
    const ends = [...a!.ends, ...b!.ends];
    expect(starts).toHaveLength(12);
    expect(mostInFlight(starts, ends)).toBe(2);
  });
});
