import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CRM_EVENTS_QUEUE } from '../src/events/publish.js';
import { publishContactCreates, publishOneByOne } from './lib.js';

/** Publishes in flight at once when publishing one by one (BENCH_PUBLISH_LANES, default 64). */
const LANES = Number(process.env.BENCH_PUBLISH_LANES ?? 64);

/**
 * The CRM's side of a benchmark, in a process of its own as in a deployment: publishing 10,000
 * events costs CPU that is the CRM's, not crm-sync's. Connects first, then waits for a line on
 * stdin ("COUNT one-by-one|bulk"), publishes, and answers one JSON line: each event's `occurredAt` (ms), by index, and the CPU seconds publishing took.
 */
const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const queue = new Queue(CRM_EVENTS_QUEUE, { connection: redis, prefix: process.env.CRM_SYNC_QUEUE_PREFIX! });
await queue.waitUntilReady();
process.stdout.write('publisher ready\n');

let input = '';
process.stdin.on('data', (chunk) => {
  input += chunk.toString();
  if (!input.includes('\n')) return;
  const [count, how] = input.trim().split(' ') as [string, 'one-by-one' | 'bulk'];
  const occurredAt: number[] = [];
  const cpuBefore = process.cpuUsage();
  const publishing =
    how === 'bulk'
      ? publishContactCreates(queue, Number(count), (e) => occurredAt.push(Date.parse(e.occurredAt)))
      : publishOneByOne(queue, Number(count), LANES, (e, i) => {
          occurredAt[i] = Date.parse(e.occurredAt);
        });
  void publishing.then(
    async () => {
      const cpu = process.cpuUsage(cpuBefore);
      const cpuSeconds = Number(((cpu.user + cpu.system) / 1e6).toFixed(2));
      await queue.close();
      redis.disconnect();
      // Exit once the answer (a few hundred KB for 20,000 events) is through the pipe.
      process.stdout.write(`${JSON.stringify({ occurredAt, cpuSeconds })}\n`, () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`publisher: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
});
