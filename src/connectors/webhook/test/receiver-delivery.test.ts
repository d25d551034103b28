import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../test/helpers/webhook-receiver.js';
import { CrmEvent } from '../../../events/envelope.js';
import { AuthError, ConfigError, RetryableError } from '../../errors.js';
import type { WebhookDelivery } from '../delivery.js';
import { generateSigningSecret } from '../signing-secret.js';
import type { Resolve } from '../target-guard.js';
import { contactEvent, pushRecord, webhookClient } from './fixtures.js';

const secret = generateSigningSecret();
let receiver: WebhookReceiver;
let other: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  other = await startWebhookReceiver({ secret });
});
afterAll(async () => {
  await receiver.close();
  await other.close();
});
beforeEach(() => {
  receiver.sandbox.resetFaults();
  receiver.requests.length = 0;
  receiver.deliveries.length = 0;
});

function loopbackClient(settings: { timeoutMs?: number; allowPrivateNetwork?: boolean; url?: string } = {}) {
  return webhookClient(
    { url: receiver.url, allowPrivateNetwork: true, ...settings },
    { signingSecret: secret },
  );
}

/** A resolver with a fixed answer per call, recording what was asked. */
function scriptedResolve(...answers: string[][]): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const answer = answers[Math.min(asked.length - 1, answers.length - 1)] ?? [];
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const payloadOf = (d: { message: unknown }) => (d.message as WebhookDelivery).payload;

describe('delivering to a receiver that verifies signatures', () => {
  it('delivers each record of a batch in order, each verified with the Standard Webhooks library', async () => {
    const { client } = loopbackClient();
    const events = [contactEvent(), contactEvent(), contactEvent()];

    const results = await client.push(events.map((e) => pushRecord(e)));

    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(receiver.deliveries.map((d) => d.webhookId)).toEqual(events.map((e) => e.id));
    expect(receiver.deliveries.map((d) => (d.message as WebhookDelivery).event.id)).toEqual(
      events.map((e) => e.id),
    );
    expect(receiver.requests.every((r) => r.verified && r.status === 200)).toBe(true);
    await client.close?.();
  });

  it('is rejected by a receiver holding another secret, as an auth failure', async () => {
    const { client } = webhookClient(
      { url: receiver.url, allowPrivateNetwork: true },
      { signingSecret: generateSigningSecret() },
    );
    await expect(client.push([pushRecord(contactEvent())])).rejects.toBeInstanceOf(AuthError);
    expect(receiver.requests.map((r) => [r.verified, r.status])).toEqual([[false, 401]]);
    expect(receiver.deliveries).toEqual([]);
    await client.close?.();
  });

  it('recovers after the receiver fails twice, with one webhook-id across the attempts', async () => {
    receiver.respondWith(500, { times: 2 });
    const { client } = loopbackClient();
    const record = pushRecord(contactEvent());

    await expect(client.push([record])).rejects.toBeInstanceOf(RetryableError);
    await expect(client.push([record])).rejects.toBeInstanceOf(RetryableError);
    expect(await client.push([record])).toEqual([{ status: 'ok', externalId: null }]);

    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(receiver.requests.map((r) => r.webhookId))).toEqual(new Set([record.event.id]));
    expect(receiver.deliveries.map((d) => d.attempt)).toEqual([3]);
    await client.close?.();
  });

  it('returns a refused record as its own error and delivers the rest of the batch', async () => {
    receiver.failWhen((d) => d.message.payload?.email === 'bad@example.com', {
      status: 422,
      body: { error: 'email is on the block list' },
    });
    const { client } = loopbackClient();
    const records = ['a@example.com', 'bad@example.com', 'c@example.com'].map((email) =>
      pushRecord(contactEvent({}, { email }), { payload: { email } }),
    );

    const results = await client.push(records);

    expect(results.map((r) => r.status)).toEqual(['ok', 'error', 'ok']);
    expect(results[1]).toMatchObject({
      error: { kind: 'permanent', status: 422, body: { error: 'email is on the block list' } },
    });
    expect(receiver.deliveries.map((d) => payloadOf(d).email)).toEqual(['a@example.com', 'c@example.com']);
    await client.close?.();
  });

  it('stops a batch at an endpoint failure: the delivered records stand, the rest carry the error unsent', async () => {
    receiver.respondWith((attempt) => (attempt.message.payload?.email === 'b@example.com' ? 503 : undefined));
    const { client } = loopbackClient();
    const records = ['a@example.com', 'b@example.com', 'c@example.com'].map((email) =>
      pushRecord(contactEvent({}, { email }), { payload: { email } }),
    );

    const results = await client.push(records);

    expect(results.map((r) => (r.status === 'error' ? r.error.kind : r.status))).toEqual([
      'ok',
      'retryable',
      'retryable',
    ]);
    expect(receiver.requests).toHaveLength(2);
    await client.close?.();
  });

  it('gives up on a receiver that does not answer within timeoutMs, as retryable', async () => {
    receiver.respondWith({ hang: true });
    const { client } = loopbackClient({ timeoutMs: 200 });
    const started = Date.now();

    const error = await client.push([pushRecord(contactEvent())]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).message).toMatch(/no answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await client.close?.();
  });

  it('stores the id a receiver writes back for each record', async () => {
    receiver.respondWith((attempt) => ({
      status: 201,
      body: { externalId: `rcv-${(attempt.message as WebhookDelivery).entity.id}` },
    }));
    const { client } = loopbackClient();
    const records = [pushRecord(contactEvent()), pushRecord(contactEvent())];

    const results = await client.push(records);

    expect(results).toEqual(records.map((r) => ({ status: 'ok', externalId: `rcv-${r.entityId}` })));
    await client.close?.();
  });

  it('does not post an activity again once the receiver gave it an id', async () => {
    const event = CrmEvent.parse({
      id: 'evt_activity_1',
      type: 'CRM_ACTIVITY_CREATED',
      organizationId: 'org_1',
      occurredAt: '2026-11-22T10:30:00.000Z',
      data: { id: 5, contactId: 42, type: 'NOTE', content: 'Called', occurredAt: '2026-11-22T10:29:00.000Z' },
    });
    const { ctx, client } = loopbackClient();
    const record = pushRecord(event, {
      operation: 'activity',
      entityType: 'activity',
      entityId: '5',
      externalId: 'rcv-act-5',
    });

    expect(await client.push([record])).toEqual([{ status: 'ok', externalId: 'rcv-act-5' }]);
    expect(ctx.calls).toBe(0);
    expect(receiver.requests).toEqual([]);
    await client.close?.();
  });

  it('does not follow a redirect, and says so as a configuration error', async () => {
    receiver.respondWith({ status: 302, headers: { location: other.url } });
    const { client } = loopbackClient();

    const error = await client.push([pushRecord(contactEvent())]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/answered 302 .*redirects are not followed/);
    expect(other.requests).toEqual([]);
    await client.close?.();
  });
});

describe('the SSRF guard', () => {
  it('refuses a loopback URL unless the integration allows private networks, before any request', async () => {
    const { client } = loopbackClient({ allowPrivateNetwork: false });

    const error = await client.push([pushRecord(contactEvent())]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'refusing to deliver to 127.0.0.1: it is a loopback address (127.0.0.0/8, ::1); set allowPrivateNetwork: true in the integration settings to allow private targets',
    );
    expect(error).toMatchObject({ code: 'SSRF_LOOPBACK' });
    expect(receiver.requests).toEqual([]);
    await client.close?.();
  });

  it('refuses a host name that resolves to 127.0.0.1 when the socket connects', async () => {
    const { client } = webhookClient(
      { url: `http://localhost:${receiver.port}/hooks` },
      { signingSecret: secret },
    );

    const error = await client.push([pushRecord(contactEvent())]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^refusing to deliver to localhost: it resolves to (127\.0\.0\.1|::1), which is a loopback address/,
    );
    expect(receiver.requests).toEqual([]);
    await client.close?.();
  });

  it('delivers to a private host name when the integration allows private networks', async () => {
    const resolve = scriptedResolve(['127.0.0.1']);
    const { client } = webhookClient(
      { url: `http://hooks.internal.test:${receiver.port}/hooks`, allowPrivateNetwork: true },
      { signingSecret: secret },
      { resolve },
    );

    expect(await client.push([pushRecord(contactEvent())])).toEqual([{ status: 'ok', externalId: null }]);
    expect(resolve.asked).toEqual(['hooks.internal.test']);
    expect(receiver.deliveries[0]?.headers.host).toBe(`hooks.internal.test:${receiver.port}`);
    await client.close?.();
  });

  it('refuses a name that rebinds to loopback between check() and the connection', async () => {
    const resolve = scriptedResolve(['93.184.216.34'], ['127.0.0.1']);
    const { client } = webhookClient(
      { url: `http://rebind.test:${receiver.port}/hooks` },
      { signingSecret: secret },
      { resolve },
    );

    const result = await client.check();

    expect(resolve.asked).toEqual(['rebind.test', 'rebind.test']);
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(
      /^refusing to deliver to rebind.test: it resolves to 127.0.0.1, which is a loopback/,
    );
    expect(receiver.requests).toEqual([]);
    await client.close?.();
  });

  it('refuses a host with one private address among public ones', async () => {
    const resolve = scriptedResolve(['93.184.216.34', '10.0.0.8']);
    const { client } = webhookClient(
      { url: 'https://mixed.test/hooks' },
      { signingSecret: secret },
      { resolve },
    );
    await expect(client.push([pushRecord(contactEvent())])).rejects.toMatchObject({
      kind: 'config',
      code: 'SSRF_PRIVATE',
      message: expect.stringMatching(
        /^refusing to deliver to mixed.test: it resolves to 10.0.0.8, which is a private/,
      ),
    });
    await client.close?.();
  });

  it.each([
    ['http://10.0.0.1/hooks', '10.0.0.1', 'a private'],
    ['http://172.20.1.1/hooks', '172.20.1.1', 'a private'],
    ['http://192.168.0.10/hooks', '192.168.0.10', 'a private'],
    ['http://[fd00::1]/hooks', 'fd00::1', 'a private'],
    ['http://[::1]/hooks', '::1', 'a loopback'],
    ['http://169.254.3.4/hooks', '169.254.3.4', 'a link-local'],
    ['http://[fe80::1]/hooks', 'fe80::1', 'a link-local'],
    ['http://0.0.0.0/hooks', '0.0.0.0', 'an unspecified'],
    ['http://100.64.1.1/hooks', '100.64.1.1', 'a carrier-grade NAT'],
    ['http://169.254.169.254/latest/meta-data', '169.254.169.254', 'a cloud metadata'],
    ['http://[::ffff:127.0.0.1]/hooks', '::ffff:7f00:1', 'a loopback'],
    ['http://2130706433/hooks', '127.0.0.1', 'a loopback'],
  ])('refuses %s by default, naming %s as %s address', async (url, host, label) => {
    const { client } = webhookClient({ url }, { signingSecret: secret });
    const error = await client.push([pushRecord(contactEvent())]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`refusing to deliver to ${host}: it is ${label}`);
    await client.close?.();
  });
});

describe('check()', () => {
  it('sends a signed crm-sync.ping the receiver verifies', async () => {
    const { client } = loopbackClient();

    const result = await client.check();

    expect(result).toEqual({
      ok: true,
      account: `http://127.0.0.1:${receiver.port}/hooks`,
      message: `http://127.0.0.1:${receiver.port}/hooks (127.0.0.1) accepted a signed crm-sync.ping with 200`,
    });
    expect(receiver.deliveries[0]?.message).toMatchObject({
      type: 'crm-sync.ping',
      integration: { key: 'crm-hooks' },
    });
    await client.close?.();
  });

  it('reports a receiver that rejects the ping', async () => {
    receiver.respondWith({ status: 403, body: { error: 'unknown sender' } });
    const { client } = loopbackClient();

    const result = await client.check();

    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/answered 403 Forbidden .*unknown sender/);
    await client.close?.();
  });

  it('reports a host name that does not resolve', async () => {
    const { client } = webhookClient(
      { url: 'https://nowhere.invalid/hooks' },
      { signingSecret: secret },
      { resolve: scriptedResolve([]) },
    );
    const result = await client.check();
    expect(result.ok).toBe(false);
    expect(result.message).toBe(
      'webhook https://nowhere.invalid/hooks could not be reached (the host name does not resolve): nowhere.invalid has no address',
    );
    await client.close?.();
  });
});
