import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { RateLimitedError } from '../../errors.js';
import { maxInWindow, SlidingWindow } from '../sandbox/request-window.js';
import { WebhookSandbox } from '../sandbox/webhook-sandbox.js';
import { generateSigningSecret } from '../signing-secret.js';
import { contactEvent, pushRecord, webhookClient } from './fixtures.js';

describe('request windows', () => {
  it('finds the most timestamps inside any window', () => {
    expect(maxInWindow([], 1000)).toBe(0);
    expect(maxInWindow([0, 100, 999, 1000, 1500, 1999], 1000)).toBe(3);
    expect(maxInWindow([5000, 0, 10, 20], 100)).toBe(3);
  });

  it('admits up to max per window and says when the next slot frees', () => {
    const window = new SlidingWindow(2, 1000);
    expect(window.admit(0)).toEqual({ ok: true });
    expect(window.admit(300)).toEqual({ ok: true });
    expect(window.admit(400)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(window.admit(1000)).toEqual({ ok: true });
  });
});

describe('the webhook sandbox', () => {
  const secret = generateSigningSecret();
  const sandbox = new WebhookSandbox({ secret });
  let url = '';

  beforeAll(async () => {
    ({ url } = await sandbox.start());
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    sandbox.resetFaults();
    sandbox.requests.length = 0;
    sandbox.deliveries.length = 0;
  });

  const client = () => webhookClient({ url, allowPrivateNetwork: true }, { signingSecret: secret });

  it('answers 429 with Retry-After beyond its rate limit, and the log shows the burst', async () => {
    sandbox.setRateLimit({ max: 5, perMs: 60_000 });
    const { client: webhook } = client();
    for (let i = 0; i < 5; i += 1) await webhook.push([pushRecord(contactEvent())]);

    const error = await webhook.push([pushRecord(contactEvent())]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(50_000);
    expect(sandbox.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(sandbox.maxRequestsInWindow(60_000)).toBe(6);
    await webhook.close?.();
  });

  it('marks a replayed webhook-id as a duplicate', async () => {
    const { client: webhook } = client();
    const record = pushRecord(contactEvent());
    await webhook.push([record]);
    await webhook.push([record]);
    expect(sandbox.deliveries.map((d) => [d.attempt, d.duplicate])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(sandbox.uniqueDeliveryIds()).toEqual(new Set([record.event.id]));
    await webhook.close?.();
  });

  it('adds its latency before answering', async () => {
    sandbox.setLatency(150);
    const { client: webhook } = client();
    await webhook.push([pushRecord(contactEvent())]);
    const [request] = sandbox.requests;
    expect((request?.answeredAt ?? 0) - (request?.receivedAt ?? 0)).toBeGreaterThanOrEqual(145);
    await webhook.close?.();
  });

  it('counts requests and connections open at the same time', async () => {
    sandbox.respondWith(async () => {
      // Nobody is answered before all three arrived, so all three are in flight at once.
      await waitFor('three requests to arrive', () => sandbox.requests.length >= 3);
      return 200;
    });
    const clients = [client(), client(), client()];
    await Promise.all(clients.map(({ client: c }) => c.push([pushRecord(contactEvent())])));
    expect(sandbox.maxInFlight).toBe(3);
    expect(sandbox.maxOpenConnections).toBeGreaterThanOrEqual(3);
    await Promise.all(clients.map(({ client: c }) => c.close?.()));
  });

  it('rejects an unsigned request with 401 and does not count it as a delivery', async () => {
    const answer = await fetch(url, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({ error: 'signature: Missing required headers' });
    expect(sandbox.requests.map((r) => r.verified)).toEqual([false]);
    expect(sandbox.deliveries).toEqual([]);
  });

  it('rejects a signed body that is not a crm-sync message with 400', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const now = new Date();
    const answer = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign('msg_1', now, body),
      },
    });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toBe('not a crm-sync message');
  });

  it('answers 500 when a responder throws, and keeps serving', async () => {
    sandbox.respondWith(
      () => {
        throw new Error('boom');
      },
      { times: 1 },
    );
    const { client: webhook } = client();
    await expect(webhook.push([pushRecord(contactEvent())])).rejects.toMatchObject({ status: 500 });
    expect(await webhook.push([pushRecord(contactEvent())])).toEqual([{ status: 'ok', externalId: null }]);
    await webhook.close?.();
  });

  it('answers 404 off its path', async () => {
    const answer = await fetch(`${url}/elsewhere`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(404);
  });

  it('waits for deliveries by event, and names what it waited for on timeout', async () => {
    const { client: webhook } = client();
    const waiting = sandbox.waitForDeliveries(2);
    await webhook.push([pushRecord(contactEvent()), pushRecord(contactEvent())]);
    expect(await waiting).toHaveLength(2);
    await expect(sandbox.waitForDeliveries(3, 50)).rejects.toThrow(
      'timed out after 50 ms waiting for 3 deliveries (got 2)',
    );
    await webhook.close?.();
  });
});
