import { type ChildProcess, spawn } from 'node:child_process';
import type { LoggedRequest } from '../../src/connectors/hubspot/sandbox/index.js';
import { rssSampler, spawnWorker, startPublisher, startStack, until, waitForSyncWorker } from '../lib.js';

const LIMIT = { max: 80, perMs: 10_000 };
const TOKEN = 'pat-bench-hubspot';

type Arrival = Omit<LoggedRequest, 'answer'>;

/**
 * The HubSpot sandbox in a process of its own (src/connectors/hubspot/sandbox/main.ts), so its
 * event loop does not share the engine's. Killed by `stop()`, and on this process's exit.
 */
async function startSandboxProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/connectors/hubspot/sandbox/main.ts',
      '--port',
      '0',
      '--max',
      String(LIMIT.max),
      '--per-ms',
      String(LIMIT.perMs),
      '--token',
      TOKEN,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bench: the HubSpot sandbox did not start: ${output}`)),
      30_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /HubSpot sandbox on (http:\/\/\S+)/.exec(output)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench: the HubSpot sandbox exited (${code}): ${output}`));
    });
  });
  return {
    url,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Most arrivals in any window of `windowMs` (sliding over arrivals), as the sandbox counts. */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/**
 * `count` CRM_CONTACT_CREATED events on `crm-events` → the engine → HubSpot (the sandbox,
 * limited like the account, 80 per 10 s). The ceiling is 80 requests × 100 inputs per 10 s =
 * 800 records/s.
 */
export async function runHubSpotBench(count = Number(process.env.BENCH_HUBSPOT_EVENTS ?? 10_000)) {
  const sandbox = await startSandboxProcess();
  try {
    // BENCH_SPLIT=1: routing in a worker process of its own, syncing here (`worker --only`).
    const split = process.env.BENCH_SPLIT === '1';
    const stack = await startStack({
      relay: false,
      ...(split ? { role: 'sync' as const } : {}),
      ...(process.env.BENCH_CONCURRENCY ? { eventConcurrency: Number(process.env.BENCH_CONCURRENCY) } : {}),
      ...(process.env.BENCH_COALESCE_MS ? { coalesceMs: Number(process.env.BENCH_COALESCE_MS) } : {}),
    });
    const router = split ? await spawnWorker(stack, 'events') : null;
    // BENCH_SYNC_PROCESSES=N: N-1 more sync worker processes beside this one.
    const syncers = await Promise.all(
      Array.from({ length: Math.max(0, Number(process.env.BENCH_SYNC_PROCESSES ?? 1) - 1) }, () =>
        spawnWorker(stack, 'sync'),
      ),
    );
    try {
      const integrationId = await stack.apply({
        key: 'bench-hubspot',
        organizationId: 'org_bench',
        provider: 'HUBSPOT',
        name: 'Bench HubSpot',
        credentials: { accessToken: TOKEN },
        settings: { baseUrl: sandbox.url },
        events: ['CRM_CONTACT_CREATED'],
      });
      await waitForSyncWorker(stack, integrationId);
      const publisher = await startPublisher(stack);
      const rss = rssSampler();
      const started = Date.now();
      const published = publisher.publish(count);
      const trace: unknown[] = [];
      const traceTimer = process.env.BENCH_TRACE
        ? setInterval(() => {
            const t = Date.now() - started;
            void Promise.all([
              stack.engine.eventsQueue.getJobCounts('waiting', 'active', 'completed'),
              stack.engine.queueFor(integrationId).getJobCounts('delayed', 'waiting', 'active', 'completed'),
            ]).then(([e, s]) => trace.push([t, e, s]));
          }, 100)
        : undefined;
      // When the events consumer has routed every event (the engine's other half of the work).
      let routedAt = 0;
      const watch = setInterval(() => {
        void stack.engine.eventsQueue
          .getJobCounts('waiting', 'active', 'prioritized')
          .then((counts) => {
            const left = Object.values(counts).reduce((a, b) => a + b, 0);
            if (!routedAt && left === 0) routedAt = Date.now();
          })
          .catch(() => undefined);
      }, 100);
      await until(
        'every contact linked to its HubSpot id',
        async () => {
          const { rows } = await stack.ctx.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM crm_sync.sync_links WHERE integration_id = $1 AND external_id IS NOT NULL`,
            [integrationId],
          );
          return rows[0]!.n >= count;
        },
        600_000,
        100,
      );
      const seconds = (Date.now() - started) / 1000;
      clearInterval(watch);
      clearInterval(traceTimer);
      if (process.env.BENCH_TRACE) for (const t of trace) process.stderr.write(`${JSON.stringify(t)}\n`);
      const peakRssMb = rss.stop();
      const occurredAt = new Map((await published).occurredAt.map((at, i) => [`contact:${i}`, at]));

      const log = (await (await fetch(`${sandbox.url}/__sandbox/log`)).json()) as Arrival[];
      const served = log.filter((r) => !r.rateLimited);
      // Event → HubSpot: from the event's occurredAt (set as it is published) to the arrival of
      // the request that carried the record and was accepted.
      const landed = new Map<string, number>();
      for (const r of served) {
        if (r.status !== 200 || !r.path.endsWith('/batch/upsert')) continue;
        for (const input of (r.body as { inputs: { objectWriteTraceId?: string }[] }).inputs) {
          const key = input.objectWriteTraceId;
          if (key && !landed.has(key)) landed.set(key, r.at);
        }
      }
      const latencies = [...landed]
        .map(([key, at]) => at - occurredAt.get(key)!)
        .filter((ms) => Number.isFinite(ms))
        .sort((a, b) => a - b);
      const arrivals = served.map((r) => r.at).sort((a, b) => a - b);
      // BENCH_DEBUG=1: each accepted request's arrival (ms after the first publish) and inputs.
      if (process.env.BENCH_DEBUG)
        process.stderr.write(
          `${JSON.stringify(served.map((r) => [Math.round(r.at - started), (r.body as { inputs: unknown[] }).inputs.length]))}\n`,
        );
      return {
        case: 'hubspot (10k contact creates into the sandbox at 80/10 s)',
        events: count,
        seconds: Number(seconds.toFixed(1)),
        recordsPerSecond: Math.round(count / seconds),
        ceilingRecordsPerSecond: (LIMIT.max * 100 * 1000) / LIMIT.perMs,
        requests: log.length,
        requestsPerRecord: Number((log.length / count).toFixed(4)),
        rateLimited429s: log.length - served.length,
        maxRequestsIn10s: maxInWindow(
          log.map((r) => r.at),
          LIMIT.perMs,
        ),
        eventsRoutedAfterMs: routedAt ? routedAt - started : null,
        firstRequestAfterMs: Math.round(arrivals[0]! - started),
        lastRequestAfterMs: Math.round(arrivals.at(-1)! - started),
        recordsMeasured: latencies.length,
        latencyP50Ms: Math.round(percentile(latencies, 50)),
        latencyP99Ms: Math.round(percentile(latencies, 99)),
        peakRssMb,
      };
    } finally {
      await router?.stop();
      await Promise.all(syncers.map((w) => w.stop()));
      await stack.close();
    }
  } finally {
    await sandbox.stop();
  }
}
