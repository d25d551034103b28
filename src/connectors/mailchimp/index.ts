import { EVENT_TYPES } from '../../events/event-types.js';
import { defineConnector } from '../types.js';
import { accountKeyForId, accountKeyOf } from './account.js';
import { mailchimpAccountLookup } from './account-lookup.js';
import { createMailchimpClient } from './client.js';
import { mailchimpDefaultMappings } from './default-mappings.js';
import { MailchimpCredentials, MailchimpSettings } from './settings.js';

/**
 * Mailchimp (Marketing API 3.0): CRM contacts become members of one audience per integration,
 * with merge fields, tags, notes and events; CRM lists become tags or static segments.
 * See docs/connectors/mailchimp.md.
 */
export const mailchimpConnector = defineConnector({
  provider: 'MAILCHIMP',
  displayName: 'Mailchimp',
  settings: MailchimpSettings,
  credentials: MailchimpCredentials,
  // 8/s is the CRM's documented budget; 10 is Mailchimp's cap on simultaneous connections.
  rateLimit: { max: 8, perMs: 1000, maxConcurrent: 10 },
  // The member's tags come from the snapshot (settings.syncTags), not from the mapping.
  hashedSnapshotFields: ['tags'],
  batchSize: 500,
  batchWindowMs: 1000,
  capabilities: {
    push: {
      contact: ['upsert', 'archive', 'merge', 'tag_add', 'tag_remove'],
      activity: ['activity'],
      list_membership: ['list_add', 'list_remove'],
    },
  },
  defaultMappings: mailchimpDefaultMappings,
  // Mailchimp has audience members, not companies.
  defaultEvents: EVENT_TYPES.filter((type) => !type.startsWith('CRM_COMPANY_')),
  // Mailchimp's limits are per account, and an account's users each have keys of their own: the
  // account id names the budget, from the settings or asked of the API root (account-lookup.ts);
  // the key's digest only until it is known.
  accountKey: (settings, credentials) =>
    settings.accountId ? accountKeyForId(settings.accountId) : accountKeyOf(credentials),
  accountLookup: (settings, credentials) => mailchimpAccountLookup(settings, credentials),
  createClient: (ctx) => createMailchimpClient(ctx),
});
