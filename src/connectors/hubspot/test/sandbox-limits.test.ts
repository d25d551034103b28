import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitedError, RetryableError } from '../../errors.js';
import { hubspot } from '../index.js';
import { HubSpotSandbox, type HubSpotSandboxOptions, RequestLog } from '../sandbox/index.js';
import { contactData, event, hubspotContext, record } from './fixtures.js';

const started: HubSpotSandbox[] = [];
async function sandboxWith(options: HubSpotSandboxOptions) {
  const sandbox = new HubSpotSandbox(options);
  started.push(sandbox);
  const { url } = await sandbox.start();
  const ctx = hubspotContext({ baseUrl: url, requestTimeoutMs: 1000 });
  return { sandbox, ctx, client: hubspot.createClient(ctx) };
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

let next = 5000;
const contact = () => {
  next += 1;
  return record(event('CRM_CONTACT_CREATED', contactData(next)), {
    payload: { email: `l${next}@example.com` },
  });
};
const company = (domain: string) => {
  next += 1;
  return record(event('CRM_COMPANY_CREATED', { id: next, name: domain, domain }), {
    entityType: 'company',
    payload: { name: domain },
  });
};

describe('the sandbox limits and faults, as the connector sees them', () => {
  it('answers past its rolling limit with HubSpot’s 429, which the connector turns into a window pause', async () => {
    const { sandbox, client } = await sandboxWith({ rateLimit: { max: 3, perMs: 60_000 } });
    for (let i = 0; i < 3; i++) await client.push([contact()]);

    const error = await client.push([contact()]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    // No Retry-After: the connector waits out the interval the rate-limit headers name.
    expect(error).toMatchObject({ scope: 'window', code: 'TEN_SECONDLY_ROLLING', retryAfterMs: 60_000 });
    expect(sandbox.log.count((r) => r.rateLimited)).toBe(1);
    expect(sandbox.log.maxInWindow(60_000, (r) => !r.rateLimited)).toBe(3);
  });

  it('sends Retry-After when asked to, and the connector honours it', async () => {
    const { client } = await sandboxWith({ rateLimit: { max: 1, perMs: 5000 }, retryAfterHeader: true });
    await client.push([contact()]);
    const error = await client.push([contact()]).catch((e: unknown) => e);
    expect(error).toMatchObject({ scope: 'window' });
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(5000);
  });

  it('pauses until midnight once the daily quota is spent, and reports the quota as it runs low', async () => {
    const { sandbox, ctx, client } = await sandboxWith({ dailyLimit: 1000 });
    sandbox.setDailyRemaining(2);
    await client.push([contact()]);
    expect(ctx.quotas.at(-1)).toMatchObject({ dailyMax: 1000, dailyRemaining: 1 });

    await client.push([contact()]);
    const error = await client.push([contact()]).catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'rate_limited', scope: 'daily', code: 'DAILY' });
    expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(24 * 3_600_000);
    expect(ctx.quotas.at(-1)).toMatchObject({ dailyRemaining: 0 });
  });

  it('keeps search requests to their own per-second budget', async () => {
    const { ctx, client } = await sandboxWith({ searchLimit: { max: 1, perMs: 60_000 } });
    await client.push([company('first.example')]);
    const error = await client.push([company('second.example')]).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', scope: 'window', retryAfterMs: 1000 });
    expect(ctx.kinds.filter((k) => k === 'search')).toHaveLength(2);
  });

  it('turns an injected 5xx into a retryable failure of the batch, then carries on', async () => {
    const { sandbox, client } = await sandboxWith({});
    sandbox.faults.failNext({ status: 503, path: /batch\/upsert$/ });
    await expect(client.push([contact()])).rejects.toBeInstanceOf(RetryableError);
    expect(await client.push([contact()])).toMatchObject([{ status: 'ok' }]);
  });

  it('gives up on an answer slower than the request timeout', async () => {
    const { sandbox, client } = await sandboxWith({});
    sandbox.faults.latencyMs = 1500;
    const error = await client.push([contact()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe('HubSpot contacts batch upsert: no answer within 1000 ms');
  });

  it('counts concurrent requests and connections, and delays answers by the injected latency', async () => {
    const { sandbox } = await sandboxWith({});
    sandbox.faults.latencyMs = 100;
    const clients = Array.from({ length: 4 }, () =>
      hubspot.createClient(hubspotContext({ baseUrl: sandbox.url })),
    );
    await Promise.all(clients.map((c) => c.push([contact()])));
    expect(sandbox.maxActiveRequests).toBe(4);
    expect(sandbox.maxConnections).toBeGreaterThanOrEqual(4);
    for (const entry of sandbox.log.entries) expect(entry.finishedAt - entry.at).toBeGreaterThanOrEqual(99);
    await Promise.all(clients.map((c) => c.close?.()));
  });

  it('refuses requests without the account’s token', async () => {
    const { sandbox } = await sandboxWith({ accessToken: 'pat-the-right-one' });
    const client = hubspot.createClient(hubspotContext({ baseUrl: sandbox.url }));
    expect(await client.check()).toMatchObject({ ok: false });
    expect((await client.check()).message).toContain('401 INVALID_AUTHENTICATION');
  });
});

describe('the request log', () => {
  const at = (times: number[]) => {
    const log = new RequestLog();
    for (const t of times)
      log.add({
        at: t,
        finishedAt: t,
        method: 'POST',
        path: '/x',
        status: 200,
        body: null,
        answer: null,
        rateLimited: false,
      });
    return log;
  };

  it('finds the most requests in any window, sliding over arrivals', () => {
    expect(at([0, 100, 9_999, 10_000, 10_050]).maxInWindow(10_000)).toBe(4);
    expect(at([0, 10_000, 20_000]).maxInWindow(10_000)).toBe(1);
    expect(at([]).maxInWindow(10_000)).toBe(0);
  });
});
