import { describe, expect, it } from 'vitest';
import { getConnector } from '../../registry.js';
import { hubspot } from '../index.js';
import { HubSpotSettings } from '../settings.js';
import { TOKEN } from './fixtures.js';

describe('the HubSpot connector declaration', () => {
  it('is registered for provider HUBSPOT', () => {
    expect(getConnector('HUBSPOT')).toBe(hubspot);
  });

  it('names the rate-limit account by portal, else by a digest that does not reveal the token', () => {
    const credentials = { accessToken: TOKEN };
    expect(hubspot.accountKey(HubSpotSettings.parse({ portalId: 123456 }), credentials)).toBe(
      'portal-123456',
    );
    const key = hubspot.accountKey(HubSpotSettings.parse({}), credentials);
    expect(key).toMatch(/^token-[0-9a-f]{16}$/);
    expect(key).not.toContain(TOKEN.slice(4, 12));
    expect(hubspot.accountKey(HubSpotSettings.parse({}), { accessToken: `${TOKEN}x` })).not.toBe(key);
  });

  it('budgets 80 requests per 10 s per account, and search requests separately', () => {
    expect(hubspot.rateLimit).toMatchObject({ max: 80, perMs: 10_000 });
    expect(hubspot.extraRateLimits).toEqual({ search: { max: 4, perMs: 1000 } });
    expect(hubspot.batchSize).toBe(100);
  });

  it('defaults to HubSpot itself, ignores deletes, and explains bad settings by path', () => {
    expect(HubSpotSettings.parse({})).toMatchObject({
      baseUrl: 'https://api.hubapi.com',
      deleteMode: 'ignore',
      timeZone: 'UTC',
      createMissingProperties: false,
    });
    const parsed = HubSpotSettings.safeParse({
      deleteMode: 'purge',
      timeZone: 'Mars/Olympus',
      baseUrl: 'not a url',
      colour: 'red',
    });
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((i) => i.path.join('.') || i.message);
    expect(paths).toEqual(expect.arrayContaining(['deleteMode', 'timeZone', 'baseUrl']));
    expect(parsed.error?.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });

  it('maps the CRM lifecycle stages to HubSpot’s internal values by default', () => {
    const stage = hubspot.defaultMappings?.contact?.fields?.find((f) => f.target === 'lifecyclestage');
    expect(stage?.map).toEqual({
      SUBSCRIBER: 'subscriber',
      LEAD: 'lead',
      MARKETING_QUALIFIED: 'marketingqualifiedlead',
      SALES_QUALIFIED: 'salesqualifiedlead',
      OPPORTUNITY: 'opportunity',
      CUSTOMER: 'customer',
      EVANGELIST: 'evangelist',
    });
  });
});
