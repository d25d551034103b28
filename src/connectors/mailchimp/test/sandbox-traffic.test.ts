import Bottleneck from 'bottleneck';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import { isConnectorError } from '../../errors.js';
import { contact, crmEvent, harness, payloadOf, record } from './fixtures.js';
import { newKey, startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());
afterEach(() => {
  env.sandbox.configure({ perSecond: null, maxConnections: 10, latencyMs: 0 });
  env.sandbox.faults.clear();
});

const creates = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => {
    const c = contact(offset + i + 1, `p${offset + i}@example.com`);
    return record({
      operation: 'upsert',
      event: crmEvent('CRM_CONTACT_CREATED', c),
      entityId: String(c.id),
      payload: payloadOf(c),
    });
  });

async function thrown(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isConnectorError(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('the Mailchimp connector under the sandbox’s limits and faults', () => {
  it('creates 8,000 members within 8 requests per second without a single 429, 500 members a call', async () => {
    env.sandbox.configure({ perSecond: 8, maxConnections: 10 });
    env.sandbox.traffic.reset();
    const { listId, ctx, push } = env.audience();
    // Stands in for the engine's shared limiter: 8 per second. The wide spacing leaves room for
    // arrival jitter, since the sandbox shares this process's event loop with the client.
    const limiter = new Bottleneck({
      reservoir: 8,
      reservoirRefreshAmount: 8,
      reservoirRefreshInterval: 1000,
      maxConcurrent: 10,
      minTime: 150,
    });
    const direct = ctx.request.bind(ctx);
    ctx.request = (call, options) => limiter.schedule(() => direct(call, options));
    // One push at a time: sixteen drafted at once would stall this shared event loop, delaying
    // arrivals at the sandbox and bunching them into one window.
    const results = [];
    for (let i = 0; i < 16; i++) results.push(...(await push(creates(500, i * 500))));
    expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(env.sandbox.audience(listId).members.size).toBe(8000);
    const stats = env.sandbox.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.requests).toBe(1 + 16);
    expect(env.sandbox.traffic.maxInWindow(1000)).toBeLessThanOrEqual(8);
  });

  it('keeps one connection per integration alive across its requests, and ends it on close', async () => {
    // A sandbox of its own: the other tests' clients keep their connections open.
    const own = await startSandbox();
    try {
      const first = own.audience();
      const second = own.audience();
      for (let i = 0; i < 3; i++) {
        await first.push(creates(2, i * 2));
        await second.push(creates(2, 100 + i * 2));
      }
      // Each audience's merge-field read and three batch calls: eight requests.
      expect(own.sandbox.stats().requests).toBe(8);
      // superagent alone opens one connection per request (eight); each client's own pool, one.
      expect(own.sandbox.stats().socketsOpened).toBe(2);
      // Four requests at once need four connections; once done, a client keeps two idle at most.
      own.sandbox.configure({ latencyMs: 50 });
      const checks = await Promise.all(Array.from({ length: 4 }, () => first.client.check()));
      expect(checks.every((c) => c.ok)).toBe(true);
      expect(own.sandbox.stats().socketsOpened).toBe(5);
      await waitFor(
        'the idle connections past two to close',
        () => own.sandbox.traffic.openSockets === 3,
        2_000,
      );
      // close() ends a client's connections at once, not after the 4 s it keeps one idle.
      await second.client.close?.();
      await waitFor(
        "the closed client's connection to close",
        () => own.sandbox.traffic.openSockets === 2,
        1_000,
      );
      // Left alone, a client closes its idle connections itself, long before the sandbox would (30 s).
      await waitFor('the idle connections to close', () => own.sandbox.traffic.openSockets === 0, 10_000);
    } finally {
      await own.stop();
    }
  });

  it('turns the sandbox’s 429, which has no Retry-After (as Mailchimp’s has none), into a rate-limited error pausing 1 s', async () => {
    env.sandbox.traffic.reset();
    env.sandbox.configure({ perSecond: 2 });
    const { push } = env.audience();
    // The merge-field read and the first batch use up the second; the next batch is refused.
    await push(creates(1));
    const error = await thrown(push(creates(1, 1)));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000, code: 'Too Many Requests' });
  });

  it('refuses an eleventh simultaneous connection, as Mailchimp does', async () => {
    env.sandbox.configure({ latencyMs: 150 });
    const { key, url } = env;
    env.sandbox.addAudience({ id: 'flood', apiKey: key });
    const answers = await Promise.all(
      Array.from({ length: 14 }, () =>
        fetch(`${url}/lists/flood`, {
          headers: { authorization: `Basic ${Buffer.from(`u:${key}`).toString('base64')}` },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    const refused = answers.find((a) => a.status === 429);
    expect(await refused?.json()).toMatchObject({
      detail: 'You have exceeded the limit of 10 simultaneous connections.',
    });
    expect(env.sandbox.traffic.peakInFlight).toBeGreaterThanOrEqual(10);
  });

  it('throws a retryable error on an injected 503 and succeeds once it passes', async () => {
    const { push, listId } = env.audience();
    env.sandbox.faults.add({
      method: 'POST',
      path: `/lists/${listId}`,
      status: 503,
      title: 'Service Unavailable',
      times: 1,
    });
    expect(await thrown(push(creates(2)))).toMatchObject({ kind: 'retryable', status: 503 });
    const results = await push(creates(2));
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('reads Mailchimp’s HTML 403 under load as a rate limit', async () => {
    const { push, listId } = env.audience();
    env.sandbox.faults.add({
      path: `/lists/${listId}/merge-fields`,
      status: 403,
      rawBody: '<html><body>Forbidden</body></html>',
    });
    expect(await thrown(push(creates(1)))).toMatchObject({ kind: 'rate_limited', status: 403 });
  });

  it('does not let one account’s key reach another account’s audience', async () => {
    const otherKey = newKey();
    env.sandbox.addAccount(otherKey, 'other');
    const { listId } = env.audience();
    const intruder = harness({ listId, baseUrl: env.url }, otherKey);
    expect(await intruder.client.check()).toMatchObject({
      ok: false,
      message: expect.stringContaining('404'),
    });
    expect(await thrown(intruder.push(creates(1)))).toMatchObject({ kind: 'config' });
  });

  it('gives up on an answer slower than requestTimeoutMs, as retryable, instead of waiting for it', async () => {
    const { push } = env.audience({ requestTimeoutMs: 1000 });
    env.sandbox.configure({ latencyMs: 2500 });
    const started = Date.now();
    const error = await thrown(push(creates(1)));
    const waited = Date.now() - started;
    env.sandbox.configure({ latencyMs: 0 });
    // superagent aborts the request at the timeout: ECONNABORTED, retried by the engine's policy.
    expect(error).toMatchObject({
      kind: 'retryable',
      code: 'ECONNABORTED',
      message: 'Mailchimp GET merge fields: no answer (ECONNABORTED)',
    });
    // Bounded by the setting, not by the slow answer.
    expect(waited).toBeLessThan(2500);
  });

  it('reports an unreachable API as retryable, with the network code', async () => {
    const closed = await startSandbox();
    const { listId } = closed.audience();
    const h = harness({ listId, baseUrl: closed.url }, closed.key);
    await closed.stop();
    expect(await thrown(h.push(creates(1)))).toMatchObject({ kind: 'retryable', code: 'ECONNREFUSED' });
  });
});
