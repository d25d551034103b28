import nock from 'nock';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { type ConnectorError, RateLimitedError, RetryableError } from '../../errors.js';
import type { PushResult } from '../../types.js';
import { USER_AGENT } from '../client.js';
import { deliveryId } from '../delivery.js';
import { generateSigningSecret } from '../signing-secret.js';
import { contactEvent, pushRecord, webhookClient } from './fixtures.js';

const ORIGIN = 'https://hooks.example.com';
const secret = generateSigningSecret();
const bearer = 'Bearer s3cr3t-receiver-token-0123456789';

interface Captured {
  headers: Record<string, string>;
  body: string;
}

/** Intercepts one POST and keeps its raw body and headers, answering `status` and `body`. */
function expectPost(
  path: string,
  status: number,
  answer: unknown = '',
  headers: Record<string, string> = {},
): Captured[] {
  const seen: Captured[] = [];
  nock(ORIGIN)
    .post(path)
    .reply(function (_uri, body) {
      seen.push({
        headers: this.req.headers as Record<string, string>,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return [status, answer, headers];
    });
  return seen;
}

// nock 14 emits a plain object given to replyWithError as nothing at all: pass an Error.
function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function client(url = `${ORIGIN}/crm?tenant=acme`) {
  return webhookClient(
    { url, headers: { 'X-Tenant': 'acme' } },
    { signingSecret: secret, headers: { Authorization: bearer } },
  );
}

function errorOf(result: PushResult | undefined): ConnectorError {
  if (result?.status !== 'error') throw new Error(`expected an error result, got ${JSON.stringify(result)}`);
  return result.error;
}

useStrictNock();

describe('webhook deliveries, request by request', () => {
  it('posts one signed JSON delivery per record with the Standard Webhooks headers', async () => {
    const seen = expectPost('/crm?tenant=acme', 204);
    const { ctx, client: webhook } = client();
    const event = contactEvent({ correlationId: 'corr-42' });
    const record = pushRecord(event, { payload: { email: 'ada@example.com', firstName: 'Ada' } });

    const results = await webhook.push([record]);

    expect(results).toEqual([{ status: 'ok', externalId: null }]);
    expect(ctx.calls).toBe(1);
    const [request] = seen;
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-tenant': 'acme',
      authorization: bearer,
      'x-correlation-id': 'corr-42',
      'webhook-id': event.id,
    });
    expect(Number(request?.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    expect(new Webhook(secret).verify(request?.body ?? '', request?.headers ?? {})).toEqual({
      id: event.id,
      type: 'CRM_CONTACT_UPDATED',
      timestamp: '2026-11-22T10:30:00.000Z',
      operation: 'upsert',
      entity: { type: 'contact', id: record.entityId },
      integration: { key: 'crm-hooks' },
      event: JSON.parse(JSON.stringify(event)),
      payload: { email: 'ada@example.com', firstName: 'Ada' },
    });
    await webhook.close?.();
  });

  it('sends a retry with the same webhook-id and body, so the receiver can drop the duplicate', async () => {
    const first = expectPost('/crm?tenant=acme', 503);
    const second = expectPost('/crm?tenant=acme', 200);
    const { client: webhook } = client();
    const record = pushRecord(contactEvent());

    await expect(webhook.push([record])).rejects.toBeInstanceOf(RetryableError);
    expect(await webhook.push([record])).toEqual([{ status: 'ok', externalId: null }]);

    expect(second[0]?.headers['webhook-id']).toBe(first[0]?.headers['webhook-id']);
    expect(second[0]?.body).toBe(first[0]?.body);
    await webhook.close?.();
  });

  it('fails a signature made with another secret, proving the signature covers the secret', async () => {
    const seen = expectPost('/crm?tenant=acme', 200);
    const { client: webhook } = client();
    await webhook.push([pushRecord(contactEvent())]);
    expect(() =>
      new Webhook(generateSigningSecret()).verify(seen[0]?.body ?? '', seen[0]?.headers ?? {}),
    ).toThrow(/No matching signature/);
    await webhook.close?.();
  });

  it('includes the link’s externalId in the body once the record has one', async () => {
    const seen = expectPost('/crm?tenant=acme', 200);
    const { client: webhook } = client();
    await webhook.push([pushRecord(contactEvent(), { externalId: 'rcv-7' })]);
    expect(JSON.parse(seen[0]?.body ?? '{}').externalId).toBe('rcv-7');
    await webhook.close?.();
  });

  it('gives an event id that is unsafe in a header a stable digest as its webhook-id', async () => {
    const seen = expectPost('/crm?tenant=acme', 200);
    const { client: webhook } = client();
    const event = contactEvent({ id: 'évènement 1' });
    await webhook.push([pushRecord(event)]);
    expect(seen[0]?.headers['webhook-id']).toBe(deliveryId('évènement 1'));
    expect(deliveryId('évènement 1')).toMatch(/^evt_sha256_[0-9a-f]{40}$/);
    expect(JSON.parse(seen[0]?.body ?? '{}').event.id).toBe('évènement 1');
    await webhook.close?.();
  });
});

describe('what the receiver answers', () => {
  it('stores the externalId a receiver answers as JSON', async () => {
    expectPost('/crm?tenant=acme', 200, { externalId: 'rcv-123' }, { 'content-type': 'application/json' });
    const { client: webhook } = client();
    expect(await webhook.push([pushRecord(contactEvent())])).toEqual([
      { status: 'ok', externalId: 'rcv-123' },
    ]);
    await webhook.close?.();
  });

  it('takes a numeric id when there is no externalId', async () => {
    expectPost('/crm?tenant=acme', 201, { id: 991 }, { 'content-type': 'application/json' });
    const { client: webhook } = client();
    expect(await webhook.push([pushRecord(contactEvent())])).toEqual([{ status: 'ok', externalId: '991' }]);
    await webhook.close?.();
  });

  it('ignores an id that only echoes the delivery id', async () => {
    const event = contactEvent();
    expectPost('/crm?tenant=acme', 200, { id: event.id }, { 'content-type': 'application/json' });
    const { client: webhook } = client();
    expect(await webhook.push([pushRecord(event)])).toEqual([{ status: 'ok', externalId: null }]);
    await webhook.close?.();
  });

  it('keeps the link’s externalId when the receiver answers without one', async () => {
    expectPost('/crm?tenant=acme', 200, 'thanks', { 'content-type': 'text/plain' });
    const { client: webhook } = client();
    expect(await webhook.push([pushRecord(contactEvent(), { externalId: 'rcv-7' })])).toEqual([
      { status: 'ok', externalId: 'rcv-7' },
    ]);
    await webhook.close?.();
  });
});

describe('how failures are classified', () => {
  const TABLE: [status: number, kind: string, headers?: Record<string, string>][] = [
    [301, 'config', { location: 'https://elsewhere.example.com/' }],
    [307, 'config'],
    [400, 'permanent'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'permanent'],
    [408, 'retryable'],
    [409, 'permanent'],
    [410, 'config'],
    [413, 'permanent'],
    [422, 'permanent'],
    [425, 'retryable'],
    [429, 'rate_limited'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
  ];

  it.each(TABLE)('answers %i → %s', async (status, kind, headers = {}) => {
    expectPost('/crm?tenant=acme', status, { error: `status ${status}` }, headers);
    const { client: webhook } = client();
    const batch = [pushRecord(contactEvent())];
    let error: ConnectorError;
    if (kind === 'permanent') {
      // The record is refused, not the endpoint: a per-record result, the batch goes on.
      error = errorOf((await webhook.push(batch))[0]);
    } else {
      error = await webhook.push(batch).then(
        () => {
          throw new Error('expected push to throw');
        },
        (e: ConnectorError) => e,
      );
    }
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    expect(error.code).toBe(`HTTP_${status}`);
    expect(error.body).toEqual({ error: `status ${status}` });
    expect(error.message).toContain(`webhook ${ORIGIN}/crm answered ${status}`);
    await webhook.close?.();
  });

  it('honours Retry-After in seconds on a 429', async () => {
    expectPost('/crm?tenant=acme', 429, '', { 'retry-after': '7' });
    const { client: webhook } = client();
    const error = await webhook.push([pushRecord(contactEvent())]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 7000, scope: 'window' });
    await webhook.close?.();
  });

  it('honours Retry-After as an HTTP date on a 503', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    expectPost('/crm?tenant=acme', 503, '', { 'retry-after': at });
    const { client: webhook } = client();
    const error = (await webhook
      .push([pushRecord(contactEvent())])
      .catch((e: unknown) => e)) as RetryableError;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.retryAfterMs).toBeGreaterThan(110_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
    await webhook.close?.();
  });

  it('waits a default time on a 429 without Retry-After', async () => {
    expectPost('/crm?tenant=acme', 429);
    const { client: webhook } = client();
    await expect(webhook.push([pushRecord(contactEvent())])).rejects.toMatchObject({ retryAfterMs: 5000 });
    await webhook.close?.();
  });

  it('makes a connection reset retryable, with the network code', async () => {
    nock(ORIGIN).post('/crm?tenant=acme').replyWithError(networkError('ECONNRESET', 'socket hang up'));
    const { client: webhook } = client();
    const error = await webhook.push([pushRecord(contactEvent())]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect((error as Error).message).toMatch(/could not be reached \(connection reset\)/);
    await webhook.close?.();
  });

  it('makes an expired certificate a configuration error for the admin', async () => {
    nock(ORIGIN)
      .post('/crm?tenant=acme')
      .replyWithError(networkError('CERT_HAS_EXPIRED', 'certificate has expired'));
    const { client: webhook } = client();
    await expect(webhook.push([pushRecord(contactEvent())])).rejects.toMatchObject({
      kind: 'config',
      code: 'CERT_HAS_EXPIRED',
    });
    await webhook.close?.();
  });

  it('keeps credentials and the query string out of the error when a receiver echoes the request', async () => {
    nock(ORIGIN)
      .post('/crm?tenant=acme')
      .reply(function () {
        return [400, { rejected: true, echo: this.req.headers.authorization, token: bearer.split(' ')[1] }];
      });
    const { client: webhook } = client();
    const error = errorOf((await webhook.push([pushRecord(contactEvent())]))[0]);
    const everything = JSON.stringify({ message: error.message, body: error.body });
    expect(everything).not.toContain('s3cr3t-receiver-token');
    expect(everything).not.toContain('tenant=acme');
    expect(everything).not.toContain(secret.slice(6));
    expect(error.body).toEqual({ rejected: true, echo: '[redacted]', token: '[redacted]' });
    await webhook.close?.();
  });

  it('cuts a huge error answer to 2 KB', async () => {
    expectPost('/crm?tenant=acme', 422, 'x'.repeat(100_000), { 'content-type': 'text/plain' });
    const { client: webhook } = client();
    const error = errorOf((await webhook.push([pushRecord(contactEvent())]))[0]);
    expect(typeof error.body === 'string' && error.body.length).toBe(2049);
    expect(error.message.length).toBeLessThan(400);
    await webhook.close?.();
  });
});
