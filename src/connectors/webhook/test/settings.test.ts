import { describe, expect, it } from 'vitest';
import { WebhookCredentials, WebhookSettings } from '../settings.js';
import { generateSigningSecret } from '../signing-secret.js';

function issues(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  return (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('webhook settings', () => {
  it('fills the defaults: no private network, 10 s timeout, no extra headers', () => {
    expect(WebhookSettings.parse({ url: 'https://hooks.example.com/crm' })).toEqual({
      url: 'https://hooks.example.com/crm',
      allowPrivateNetwork: false,
      timeoutMs: 10_000,
      headers: {},
    });
  });

  it('names the url when it is not http or https', () => {
    const result = WebhookSettings.safeParse({ url: 'ftp://hooks.example.com/crm' });
    expect(issues(result)).toEqual(['url: url must be an absolute http:// or https:// URL']);
  });

  it('refuses a url carrying a user and password, which settings would store in clear', () => {
    const result = WebhookSettings.safeParse({ url: 'https://me:pw@hooks.example.com/crm' });
    expect(issues(result)[0]).toMatch(/^url: url must not carry user:password@/);
  });

  it('refuses headers the connector sets itself, naming the header', () => {
    const result = WebhookSettings.safeParse({
      url: 'https://hooks.example.com',
      headers: { 'Webhook-Signature': 'v1,forged' },
    });
    expect(issues(result)[0]).toMatch(/^headers\.Webhook-Signature: the connector sets this header itself/);
  });

  it('sends secret-looking headers to credentials', () => {
    const result = WebhookSettings.safeParse({
      url: 'https://hooks.example.com',
      headers: { Authorization: 'Bearer abc', 'X-Tenant': 'acme' },
    });
    expect(issues(result)).toEqual([
      'headers.Authorization: header "Authorization" looks secret: put it in credentials.headers (encrypted at rest, never logged)',
    ]);
  });

  it('refuses a header value with a line break (header injection)', () => {
    const result = WebhookSettings.safeParse({
      url: 'https://hooks.example.com',
      headers: { 'X-Tenant': 'acme\r\nX-Evil: 1' },
    });
    expect(issues(result)).toEqual(['headers.X-Tenant: a header value is printable ASCII, no line breaks']);
  });

  it('refuses unknown keys, so a typo does not pass silently', () => {
    const result = WebhookSettings.safeParse({ url: 'https://hooks.example.com', timeoutMS: 5000 });
    expect(issues(result)[0]).toMatch(/timeoutMS/);
  });
});

describe('webhook credentials', () => {
  it('accepts a generated whsec_ secret and one without the prefix', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(WebhookCredentials.parse({ signingSecret: secret })).toEqual({
      signingSecret: secret,
      headers: {},
    });
    expect(WebhookCredentials.safeParse({ signingSecret: secret.slice(6) }).success).toBe(true);
  });

  it('refuses a secret that is not base64 without quoting it', () => {
    const result = WebhookCredentials.safeParse({ signingSecret: 'whsec_not base64!' });
    const messages = issues(result);
    expect(messages).toEqual([
      'signingSecret: signingSecret must be "whsec_" followed by base64 (generate one with: openssl rand -base64 32)',
    ]);
    expect(messages.join()).not.toContain('not base64!');
  });

  it('refuses a secret shorter than the 24 bytes the spec asks for', () => {
    const short = `whsec_${Buffer.alloc(16, 7).toString('base64')}`;
    const messages = issues(WebhookCredentials.safeParse({ signingSecret: short }));
    expect(messages).toEqual([
      'signingSecret: signingSecret must decode to 24–64 bytes (Standard Webhooks), this one is 16 bytes',
    ]);
    expect(messages.join()).not.toContain(short.slice(6));
  });
});
