import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadEnv } from '../../src/config/env.js';
import { BASE_EVENT_CONCURRENCY, DEFAULT_EVENT_CONCURRENCY } from '../../src/engine/engine.js';
import { jobIdFor } from '../../src/events/job-id.js';
import { CRM_EVENTS_QUEUE } from '../../src/events/publish.js';
import {
  contactCreated,
  publishContactCreates,
  rssSampler,
  spawnWorker,
  startStack,
  until,
  waitForSyncWorker,
} from '../lib.js';

/** BENCH_SPLIT=1: routing in a worker process of its own (`worker --only events`), syncing here. */
const SPLIT = process.env.BENCH_SPLIT === '1';
/** The consumer's widest wave: the engine's default unless BENCH_CONCURRENCY says otherwise. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? DEFAULT_EVENT_CONCURRENCY);
/** The consumer runs between these two; raw BullMQ is measured at both and the faster one counts. */
const RAW_CONCURRENCIES = [...new Set([Math.min(BASE_EVENT_CONCURRENCY, CONCURRENCY), CONCURRENCY])];

/**
 * Raw BullMQ: the same number of jobs, added the same way, consumed by a no-op worker with one
 * of the concurrencies of the pipeline's event consumer. The ceiling the pipeline is measured against.
 */
async function rawBullmq(count: number, concurrency: number) {
  const env = loadEnv();
  const prefix = `crm-sync-bench-raw-${process.pid}`;
  // The same client options as crm-sync's own connections (src/app/context.ts), so that the
  // baseline is BullMQ on the same footing, not BullMQ with a slower client.
  const options = { maxRetriesPerRequest: null, enableAutoPipelining: true };
  const connection = new Redis(env.REDIS_URL, options);
  const queue = new Queue('raw', { connection, prefix });
  let done = 0;
  const worker = new Worker('raw', async () => {}, {
    connection: new Redis(env.REDIS_URL, options),
    prefix,
    concurrency,
  });
  worker.on('completed', () => {
    done += 1;
  });
  const started = performance.now();
  for (let i = 0; i < count; i += 1000) {
    const slice = Array.from({ length: Math.min(1000, count - i) }, (_, k) => contactCreated(i + k));
    await queue.addBulk(
      slice.map((e) => ({ name: e.type, data: e, opts: { jobId: jobIdFor(e.id), removeOnComplete: true } })),
    );
  }
  await until('raw jobs done', async () => done >= count, 300_000, 20);
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  return { perSecond: count / seconds, seconds };
}

/** crm-sync end to end: crm-events → consumer → router → sync queue → batcher → NOOP connector → links. */
export async function pipeline(count: number) {
  const split = SPLIT;
  const stack = await startStack({
    eventConcurrency: CONCURRENCY,
    relay: false,
    ...(split ? { role: 'sync' as const } : {}),
    ...(process.env.BENCH_COALESCE_MS ? { coalesceMs: Number(process.env.BENCH_COALESCE_MS) } : {}),
  });
  const router = split
    ? await spawnWorker(
        stack,
        'events',
        process.env.BENCH_CONCURRENCY ? { CRM_SYNC_EVENT_CONCURRENCY: process.env.BENCH_CONCURRENCY } : {},
      ).catch(async (error: unknown) => {
        await stack.close();
        throw error;
      })
    : null;
  try {
    const integrationId = await stack.apply({
      key: 'bench-noop',
      organizationId: 'org_bench',
      provider: 'NOOP',
      name: 'Bench no-op',
      events: ['CRM_CONTACT_CREATED'],
      mappings: {
        contact: {
          fields: [
            { source: 'email', target: 'email', transform: ['lowercase'] },
            { source: 'givenName', target: 'firstname' },
            { source: 'familyName', target: 'lastname' },
            {
              source: 'lifecycleStage',
              target: 'lifecyclestage',
              map: { LEAD: 'lead' },
              default: 'subscriber',
            },
          ],
        },
      },
    });
    await waitForSyncWorker(stack, integrationId);
    const queue = new Queue(CRM_EVENTS_QUEUE, { connection: stack.ctx.redis(), prefix: stack.prefix });
    const rss = rssSampler();
    const started = performance.now();
    await publishContactCreates(queue, count);
    const linked = async () => {
      const { rows } = await stack.ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM crm_sync.sync_links WHERE integration_id = $1 AND sync_hash IS NOT NULL`,
        [integrationId],
      );
      return rows[0]!.n >= count;
    };
    // When the consumer has taken every event off crm-events: splits ingest from sync time.
    await until(
      'crm-events drained',
      async () => {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      600_000,
      50,
    );
    const ingestSeconds = (performance.now() - started) / 1000;
    // Counting links is a query over the whole table: polled only once every event is routed,
    // then as often as raw BullMQ's completion count (20 ms), so neither side is timed coarser.
    await until('every event synced and linked', linked, 600_000, 20);
    const seconds = (performance.now() - started) / 1000;
    const peakRssMb = rss.stop();
    await queue.close();
    return { perSecond: count / seconds, seconds, ingestSeconds, peakRssMb };
  } finally {
    await router?.stop();
    await stack.close();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Raw BullMQ and the pipeline, alternated for `rounds` rounds (BENCH_ROUNDS, default 3): on a
 * shared 2-core machine one run of either varies by 10-20% from one minute to the next, so the
 * ratio is taken between the medians of runs made side by side, not between two single runs.
 * Each round measures raw BullMQ at the consumer's narrowest and widest wave and keeps the faster.
 */
export async function runPipelineBench(
  count = Number(process.env.BENCH_EVENTS ?? 20_000),
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
) {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`BENCH_ROUNDS must be a whole number of at least 1, got ${process.env.BENCH_ROUNDS}`);
  }
  const raws: number[] = [];
  const runs: Awaited<ReturnType<typeof pipeline>>[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const raw: number[] = [];
    for (const concurrency of RAW_CONCURRENCIES) raw.push((await rawBullmq(count, concurrency)).perSecond);
    raws.push(Math.max(...raw));
    runs.push(await pipeline(count));
  }
  const raw = median(raws);
  const crm = median(runs.map((r) => r.perSecond));
  return {
    case: 'pipeline (no-op connector)',
    events: count,
    concurrency: CONCURRENCY,
    rawConcurrencies: RAW_CONCURRENCIES,
    rounds,
    rawBullmqJobsPerSecond: Math.round(raw),
    pipelineEventsPerSecond: Math.round(crm),
    ratioToRaw: Number((crm / raw).toFixed(2)),
    rawRuns: raws.map(Math.round),
    pipelineRuns: runs.map((r) => Math.round(r.perSecond)),
    pipelineSeconds: Number(median(runs.map((r) => r.seconds)).toFixed(1)),
    ingestDrainedAtSeconds: Number(median(runs.map((r) => r.ingestSeconds)).toFixed(1)),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
}
