import { createHash } from 'node:crypto';
import { EVENT_TYPES } from '../../events/event-types.js';
import { defineConnector } from '../types.js';
import { createHubSpotClient } from './client.js';
import { defaultMappings } from './default-mappings.js';
import { HubSpotCredentials, HubSpotSettings } from './settings.js';

/**
 * HubSpot (CRM v3/v4 through `@hubspot/api-client` 13): contacts, companies, their associations,
 * engagements, merges and static list memberships. See docs/connectors/hubspot.md.
 */
export const hubspot = defineConnector({
  provider: 'HUBSPOT',
  displayName: 'HubSpot',
  settings: HubSpotSettings,
  credentials: HubSpotCredentials,
  // HubSpot allows 100–250 requests per 10 s per account by plan; 80 leaves headroom for the
  // account's other apps (https://developers.hubspot.com/docs/api/usage-details).
  rateLimit: { max: 80, perMs: 10_000, maxConcurrent: 8 },
  // The search API has its own limit of about 5 requests/s per token.
  extraRateLimits: { search: { max: 4, perMs: 1000 } },
  batchSize: 100,
  batchWindowMs: 500,
  capabilities: {
    push: {
      contact: ['upsert', 'archive', 'merge', 'associate', 'dissociate'],
      company: ['upsert', 'archive'],
      activity: ['activity'],
      list_membership: ['list_add', 'list_remove'],
    },
  },
  defaultMappings,
  defaultEvents: EVENT_TYPES,
  // The account's budget is shared by every integration of that account: name it by the portal
  // when known, else by a digest of the token (never the token itself).
  accountKey: (settings, credentials) =>
    settings.portalId
      ? `portal-${settings.portalId}`
      : `token-${createHash('sha256').update(credentials.accessToken).digest('hex').slice(0, 16)}`,
  createClient: createHubSpotClient,
});
