import { createHash, randomUUID } from 'node:crypto';
import nock from 'nock';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isConnectorError } from '../../src/connectors/errors.js';
import { mailchimpAccountLookup } from '../../src/connectors/mailchimp/account-lookup.js';
import { MailchimpCredentials, MailchimpSettings } from '../../src/connectors/mailchimp/settings.js';
import {
  createAccountKeyCache,
  REJECTED_LOOKUP_RETRY_MS,
  TRANSIENT_LOOKUP_RETRY_MS,
} from '../../src/engine/account-key.js';
import {
  buildRuntime,
  type IntegrationRuntime,
  type RuntimeDeps,
} from '../../src/engine/integration-runtime.js';
import { createRateLimiters } from '../../src/engine/rate-limiter.js';
import { type IntegrationSource, RuntimeRegistry } from '../../src/engine/runtime-registry.js';
import { IntegrationConfig, unsavedIntegration } from '../../src/integrations/schema.js';
import { useStrictNock } from '../helpers/strict-nock.js';
import { createTestRedis, deletePrefix, testPrefix, testRedisUrl } from '../helpers/test-redis.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Mailchimp's limits are per account, and one account's users each have API keys of their own:
 * the runtime names its rate budget by the account the key belongs to (GET /3.0/ `account_id`),
 * asked once per key for every process, not by the key.
 */
useStrictNock();

const API = 'https://us6.api.mailchimp.com';
const newKey = () => `${randomUUID().replaceAll('-', '')}-us6`;
const basic = (key: string) => `Basic ${Buffer.from(`user:${key}`).toString('base64')}`;
const digestOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

const prefix = testPrefix('mc-account');
const redis = createTestRedis();
const limiters = createRateLimiters({ redisUrl: testRedisUrl(), prefix });
const connections = [redis];
const runtimes: IntegrationRuntime[] = [];

/** What the log said, line by line, as a worker's log would carry it. */
const lines: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });

/** One worker process's view: its own cache memo on the shared Redis. */
function processDeps(): RuntimeDeps {
  const connection = createTestRedis();
  connections.push(connection);
  return {
    db: undefined as never,
    logger,
    limiters,
    accountKeys: createAccountKeyCache(connection, prefix, logger),
  };
}

function mailchimpIntegration(apiKey: string, settings: Record<string, unknown> = {}) {
  const config = IntegrationConfig.parse({
    key: `mailchimp-${randomUUID().slice(0, 8)}`,
    organizationId: 'org_1',
    provider: 'MAILCHIMP',
    name: 'Mailchimp',
    credentials: { apiKey },
    settings: { listId: 'list1', ...settings },
  });
  return unsavedIntegration(config, randomUUID());
}

async function build(apiKey: string, deps: RuntimeDeps, settings: Record<string, unknown> = {}) {
  const { integration, credentials } = mailchimpIntegration(apiKey, settings);
  const rt = await buildRuntime(integration, credentials, deps);
  runtimes.push(rt);
  return rt;
}

/** Mailchimp's API root for this key, asked exactly as the connector must ask it. */
const apiRoot = (key: string) =>
  nock(API, { reqheaders: { authorization: basic(key) } })
    .get('/3.0/')
    .query({ fields: 'account_id' });

const cachedAccount = (key: string) => redis.get(`${prefix}:account-key:MAILCHIMP:us6:${digestOf(key)}`);

/** No line of the log, and nothing of the error, carries the key or its Basic-auth form. */
function expectNoSecret(key: string, text: string) {
  expect(text).not.toContain(key);
  expect(text).not.toContain(key.split('-')[0]);
  expect(text).not.toContain(Buffer.from(`user:${key}`).toString('base64'));
}

/** Requests no interceptor matched: strict nock fails unused interceptors, this the unexpected requests. */
const unmatched: string[] = [];
nock.emitter.on('no match', (req: { method?: string; path?: string }) => {
  unmatched.push(`${req.method} ${req.path}`);
});

afterEach(() => {
  lines.length = 0;
  const unexpected = unmatched.splice(0);
  expect(unexpected).toEqual([]);
});

afterAll(async () => {
  await Promise.allSettled(runtimes.map((rt) => rt.close()));
  await limiters.close();
  await deletePrefix(redis, prefix);
  await deletePrefix(redis, `b_${prefix}`);
  await Promise.allSettled(connections.map((c) => c.quit()));
});

describe('the rate budget of a Mailchimp integration', () => {
  it('is one limiter for two API keys of one account, and another for another account', async () => {
    const [first, second, other] = [newKey(), newKey(), newKey()];
    apiRoot(first).reply(200, { account_id: 'acct0one' });
    apiRoot(second).reply(200, { account_id: 'acct0one' });
    apiRoot(other).reply(200, { account_id: 'acct0two' });
    const deps = processDeps();

    const [a, b, c] = await Promise.all([build(first, deps), build(second, deps), build(other, deps)]);

    expect(a.accountKey).toBe('MAILCHIMP:account-acct0one');
    expect(b.accountKey).toBe('MAILCHIMP:account-acct0one');
    expect(b.limiter).toBe(a.limiter);
    expect(c.accountKey).toBe('MAILCHIMP:account-acct0two');
    expect(c.limiter).not.toBe(a.limiter);
    for (const rt of [a, b, c]) expect(rt.rebuildAt).toBeUndefined();
  });

  it('asks Mailchimp once per key: later builds, in this process or another, use the cached answer', async () => {
    const key = newKey();
    apiRoot(key).reply(200, { account_id: 'acct0cached' });
    const deps = processDeps();

    // Two at once (an organization's runtimes are built together) share one request.
    const first = await Promise.all([build(key, deps), build(key, deps)]);
    const rebuilt = await build(key, deps);
    const elsewhere = await build(key, processDeps());

    for (const rt of [...first, rebuilt, elsewhere])
      expect(rt.accountKey).toBe('MAILCHIMP:account-acct0cached');
    expect(await cachedAccount(key)).toBe('MAILCHIMP:account-acct0cached');
    expect(await redis.ttl(`${prefix}:account-key:MAILCHIMP:us6:${digestOf(key)}`)).toBeGreaterThan(0);
    // The strict-nock hook fails the test if more than the one GET / was made.
  });

  it('asks again where the same key is sent somewhere else (a simulator at settings.baseUrl)', async () => {
    const key = newKey();
    apiRoot(key).reply(200, { account_id: 'acct0real' });
    nock('http://simulator.test', { reqheaders: { authorization: basic(key) } })
      .get('/3.0/')
      .query({ fields: 'account_id' })
      .reply(200, { account_id: 'acct0sim' });
    const deps = processDeps();

    const real = await build(key, deps);
    const simulated = await build(key, deps, { baseUrl: 'http://simulator.test/3.0' });

    expect(real.accountKey).toBe('MAILCHIMP:account-acct0real');
    expect(simulated.accountKey).toBe('MAILCHIMP:account-acct0sim');
  });

  it('takes the account from settings.accountId without asking, and shares it with keys that asked', async () => {
    const [asked, configured] = [newKey(), newKey()];
    apiRoot(asked).reply(200, { account_id: 'acct0set' });
    const deps = processDeps();

    const fromLookup = await build(asked, deps);
    const fromSettings = await build(configured, deps, { accountId: 'acct0set' });

    expect(fromSettings.accountKey).toBe('MAILCHIMP:account-acct0set');
    expect(fromSettings.limiter).toBe(fromLookup.limiter);
    expect(fromSettings.rebuildAt).toBeUndefined();
    // Nothing to remember: the settings say it each time.
    expect(await cachedAccount(configured)).toBeNull();
  });

  it('refuses a settings.accountId that could not be a Mailchimp account id', () => {
    const parsed = MailchimpSettings.safeParse({ listId: 'list1', accountId: 'acct:1 2' });
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['accountId'],
        message: expect.stringContaining('Mailchimp account id'),
      }),
    ]);
    expect(MailchimpSettings.parse({ listId: 'list1', accountId: 'acct0set' }).accountId).toBe('acct0set');
  });
});

describe('when Mailchimp cannot say which account a key belongs to', () => {
  it('falls back to the key’s own budget on a 5xx, warns, remembers nothing, and asks again on the next build', async () => {
    const key = newKey();
    apiRoot(key).reply(503, { title: 'Service Unavailable', status: 503, detail: 'try later' });
    const deps = processDeps();

    const before = Date.now();
    const rt = await build(key, deps);

    expect(rt.accountKey).toBe(`MAILCHIMP:us6:${digestOf(key)}`);
    expect(rt.rebuildAt).toBeGreaterThanOrEqual(before + TRANSIENT_LOOKUP_RETRY_MS);
    // Spread over a fifth more, so that workers that failed together do not ask together.
    expect(rt.rebuildAt).toBeLessThanOrEqual(Date.now() + TRANSIENT_LOOKUP_RETRY_MS * 1.2);
    expect(await cachedAccount(key)).toBeNull();
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.kind === 'retryable');
    expect(warning).toMatchObject({ level: 40, err: expect.stringContaining('answered 503') });

    apiRoot(key).reply(200, { account_id: 'acct0back' });
    const again = await build(key, deps);
    expect(again.accountKey).toBe('MAILCHIMP:account-acct0back');
    expect(again.rebuildAt).toBeUndefined();
  });

  it('falls back on a dropped connection too, without the key in the log', async () => {
    const key = newKey();
    apiRoot(key).replyWithError(`socket hang up (${key}, ${basic(key)})`);

    const rt = await build(key, processDeps());

    expect(rt.accountKey).toBe(`MAILCHIMP:us6:${digestOf(key)}`);
    expect(rt.rebuildAt).toBeDefined();
    expect(lines.join('\n')).toContain('socket hang up ([redacted], Basic [redacted])');
    expectNoSecret(key, lines.join('\n'));
  });

  it('builds the runtime on a 401 so its pushes pause the integration as any rejected key does, and checks again much later', async () => {
    const key = newKey();
    const detail = `Your API key ${key} may be invalid (${basic(key)})`;
    apiRoot(key).reply(401, { title: 'API Key Invalid', status: 401, detail });

    const before = Date.now();
    const rt = await build(key, processDeps());

    expect(rt.accountKey).toBe(`MAILCHIMP:us6:${digestOf(key)}`);
    expect(rt.rebuildAt).toBeGreaterThanOrEqual(before + REJECTED_LOOKUP_RETRY_MS);
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.kind === 'auth');
    expect(warning?.err).toContain('Mailchimp rejected the API key');
    expectNoSecret(key, lines.join('\n'));
  });

  it('throws a classified error without the key from the lookup itself', async () => {
    const key = newKey();
    const lookup = mailchimpAccountLookup(
      MailchimpSettings.parse({ listId: 'list1' }),
      MailchimpCredentials.parse({ apiKey: key }),
      {},
    );
    apiRoot(key).reply(401, { title: 'API Key Invalid', status: 401, detail: `key ${key} is not valid` });
    const error = await lookup!().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isConnectorError(error) && error.kind).toBe('auth');
    const seen = error as Error & { body?: unknown; cause?: unknown };
    expectNoSecret(key, `${seen.message} ${JSON.stringify(seen.body)} ${String(seen.stack)}`);
    expect(seen.cause).toBeUndefined();

    // An answer without an account id is not trusted.
    apiRoot(key).reply(200, { account_name: 'no id here' });
    await expect(lookup!()).rejects.toMatchObject({ kind: 'retryable', code: 'UNEXPECTED_ANSWER' });
  });

  it('has the routes that find an integration changed at once share one rebuild', async () => {
    const key = newKey();
    const { integration, credentials } = mailchimpIntegration(key);
    let row = integration;
    const source: IntegrationSource = {
      load: async () => ({ integration: row, credentials }),
      listEnabled: async () => [row],
      listAllEnabled: async () => [row],
      current: async () => row,
    };
    // No lookup cache: every build asks Mailchimp, so the interceptors count the builds.
    const registry = new RuntimeRegistry(source, { ...processDeps(), accountKeys: undefined }, 0);
    try {
      apiRoot(key).reply(200, { account_id: 'acct0before' });
      const before = await registry.get(integration.id);
      row = { ...integration, updatedAt: new Date(integration.updatedAt.getTime() + 1000) };
      apiRoot(key).reply(200, { account_id: 'acct0after' });

      const routes = await Promise.all([1, 2, 3, 4, 5].map(() => registry.forOrganization('org_1')));

      const rebuilt = new Set(routes.map(([rt]) => rt));
      expect(rebuilt.size).toBe(1);
      expect([...rebuilt][0]).not.toBe(before);
      expect([...rebuilt][0]?.accountKey).toBe('MAILCHIMP:account-acct0after');
      // One GET / for the five: the afterEach hook fails on any request no interceptor expected.
    } finally {
      await registry.close();
    }
  });

  it('has the registry rebuild a fallback runtime once its time comes, which then gets the account’s budget', async () => {
    const key = newKey();
    const { integration, credentials } = mailchimpIntegration(key);
    const source: IntegrationSource = {
      load: async () => ({ integration, credentials }),
      listEnabled: async () => [integration],
      listAllEnabled: async () => [integration],
      current: async () => integration,
    };
    const registry = new RuntimeRegistry(source, processDeps(), 0);
    try {
      apiRoot(key).reply(500, { title: 'Internal Server Error', status: 500 });
      const fallback = await registry.get(integration.id);
      expect(fallback?.accountKey).toBe(`MAILCHIMP:us6:${digestOf(key)}`);
      // Not yet due: the same runtime, and no request.
      expect(await registry.get(integration.id)).toBe(fallback);

      fallback!.rebuildAt = Date.now() - 1;
      let answer!: () => void;
      const answered = new Promise<void>((resolve) => {
        answer = resolve;
      });
      apiRoot(key).reply(200, async () => {
        await answered;
        return { account_id: 'acct0later' };
      });
      // Due: the routes that come meanwhile (several at once) keep the stand-in runtime, without
      // waiting for the lookup, which one rebuild makes in the background.
      const meanwhile = await Promise.all([1, 2, 3].map(() => registry.get(integration.id)));
      for (const rt of meanwhile) expect(rt).toBe(fallback);
      answer();
      const rebuilt = await waitFor('the rebuilt runtime', async () => {
        const rt = await registry.get(integration.id);
        return rt !== fallback && rt;
      });
      expect(rebuilt.accountKey).toBe('MAILCHIMP:account-acct0later');
      expect(rebuilt.rebuildAt).toBeUndefined();
    } finally {
      await registry.close();
    }
  });
});
