import { describe, expect, it } from 'vitest';
import { effectiveRateLimit } from '../../../engine/integration-runtime.js';
import { accountKeyOf, resolveBaseUrl } from '../account.js';
import { mailchimpConnector } from '../index.js';
import { MailchimpCredentials, MailchimpSettings } from '../settings.js';

const KEY = '0123456789abcdef0123456789abcdef-us6';

describe('Mailchimp settings and credentials', () => {
  it('defaults to the safe choices', () => {
    expect(MailchimpSettings.parse({ listId: 'abc123' })).toMatchObject({
      statusIfNew: 'subscribed',
      deleteMode: 'archive',
      createMissingMergeFields: false,
      listTarget: 'tag',
      eventPrefix: 'crm_',
    });
  });

  it('names the setting and the allowed values when one is wrong', () => {
    const result = MailchimpSettings.safeParse({ listId: 'abc', deleteMode: 'purge' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['deleteMode']);
    expect(result.error?.issues[0]?.message).toContain('"archive"');
  });

  it('refuses an API key without its data center, without echoing the key', () => {
    const result = MailchimpCredentials.safeParse({ apiKey: 'secretsecretsecret' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('secretsecretsecret');
    expect(result.error?.issues[0]?.message).toContain('data center');
  });

  it('derives the API root from the key, unless the settings or the environment override it', () => {
    const credentials = { apiKey: KEY };
    expect(resolveBaseUrl({ baseUrl: null }, credentials, {})).toBe('https://us6.api.mailchimp.com/3.0');
    expect(
      resolveBaseUrl({ baseUrl: null }, credentials, { MAILCHIMP_BASE_URL: 'http://127.0.0.1:9/3.0/' }),
    ).toBe('http://127.0.0.1:9/3.0');
    expect(
      resolveBaseUrl({ baseUrl: 'http://sim:1/3.0' }, credentials, { MAILCHIMP_BASE_URL: 'http://x' }),
    ).toBe('http://sim:1/3.0');
  });

  it('keys the shared rate budget by data center and a hash of the key, never the key', () => {
    const accountKey = accountKeyOf({ apiKey: KEY });
    expect(accountKey).toMatch(/^us6:[0-9a-f]{16}$/);
    expect(accountKey).not.toContain('0123456789abcdef');
    expect(accountKeyOf({ apiKey: KEY.replace('0', '1') })).not.toBe(accountKey);
  });

  it('declares 8 requests per second, 10 connections and batches of 500', () => {
    expect(mailchimpConnector.rateLimit).toEqual({ max: 8, perMs: 1000, maxConcurrent: 10 });
    expect(mailchimpConnector.batchSize).toBe(500);
  });

  it('keeps the 10-connection cap when an integration overrides only the request rate', () => {
    expect(effectiveRateLimit(mailchimpConnector.rateLimit, { max: 5, perMs: 1000 })).toEqual({
      max: 5,
      perMs: 1000,
      maxConcurrent: 10,
    });
    expect(
      effectiveRateLimit(mailchimpConnector.rateLimit, { max: 5, perMs: 1000, maxConcurrent: 2 }),
    ).toEqual({
      max: 5,
      perMs: 1000,
      maxConcurrent: 2,
    });
    expect(effectiveRateLimit(mailchimpConnector.rateLimit, undefined)).toBe(mailchimpConnector.rateLimit);
  });
});
