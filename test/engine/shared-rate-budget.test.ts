import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookIntegration,
} from '../helpers/webhook-receiver.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const LIMIT = { max: 5, perMs: 1000 };
const RECORDS = 30;
// Requests leave the limiter at least perMs/max apart; on the way to the receiver they can be
// delayed unevenly by a few milliseconds (event loop, loopback), which this allowance absorbs.
const ARRIVAL_JITTER_MS = 50;

let h: EngineHarness;
let receiver: WebhookReceiver;
let child: ChildProcess;
let childLog = '';

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  h = await startEngineHarness();
  await h.applyIntegration(
    webhookIntegration(receiver, secret, {
      key: 'hooks-limited',
      name: 'Limited webhooks',
      events: ['CRM_CONTACT_UPDATED'],
      rateLimit: LIMIT,
    }),
  );
  // A second worker, as a separate OS process running the real CLI on the same Redis and Postgres.
  child = spawn(process.execPath, ['bin/crm-sync.js', 'worker'], {
    env: { ...process.env, ...h.env, CRM_SYNC_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => {
    childLog += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    childLog += chunk;
  });
  await waitFor(
    'the second worker process to start',
    () => childLog.includes('crm-sync worker started'),
    30_000,
  );
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await h?.close();
  await receiver?.close();
});

describe('two worker processes', () => {
  it('share one rate budget: never more requests in any window than the limit allows', async () => {
    for (let i = 0; i < RECORDS; i++) await h.publish(contactEvent({ contactId: 1000 + i, version: 1 }));
    await waitFor('every record delivered', () => receiver.deliveries.length >= RECORDS, 40_000);

    const arrivals = receiver.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(RECORDS);
    let busiest = 0;
    for (let i = 0; i < arrivals.length; i++) {
      let j = i;
      while (j < arrivals.length && arrivals[j]! < arrivals[i]! + LIMIT.perMs - ARRIVAL_JITTER_MS) j++;
      busiest = Math.max(busiest, j - i);
    }
    expect(busiest).toBeLessThanOrEqual(LIMIT.max);
    // And the budget was used, not starved: 30 records at 5/s take about 6 s, not much more.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeLessThan((RECORDS / LIMIT.max) * LIMIT.perMs * 1.6);
  }, 60_000);

  it('shuts the second process down gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(childLog).toContain('shutting down');
  }, 30_000);
});
