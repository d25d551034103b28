import { EVENT_TYPES } from '../../events/event-types.js';
import { defineConnector } from '../types.js';
import { createWebhookClient } from './client.js';
import { webhookDefaultMappings } from './default-mappings.js';
import { WebhookCredentials, WebhookSettings } from './settings.js';

/**
 * Signed webhooks (Standard Webhooks, https://www.standardwebhooks.com): every subscribed
 * event is POSTed as JSON to the integration's URL. See docs/connectors/webhook.md.
 */
export const webhookConnector = defineConnector({
  provider: 'WEBHOOK',
  displayName: 'Signed webhook',
  settings: WebhookSettings,
  credentials: WebhookCredentials,
  // Per receiving origin: a receiver is one service, however many integrations point at it.
  rateLimit: { max: 50, perMs: 1000, maxConcurrent: 10 },
  // One POST per record, sent in order; a batch that meets a failing endpoint stops at the first
  // failure, so a dead receiver costs one timeout per batch, not 25.
  batchSize: 25,
  batchWindowMs: 50,
  // A webhook receives everything it subscribes to, as the CRM said it.
  capabilities: {
    push: {
      contact: ['upsert', 'archive', 'merge', 'tag_add', 'tag_remove', 'associate', 'dissociate'],
      company: ['upsert', 'archive'],
      activity: ['activity'],
      list_membership: ['list_add', 'list_remove'],
    },
  },
  defaultMappings: webhookDefaultMappings,
  defaultEvents: EVENT_TYPES,
  accountKey: (settings) => `webhook:${new URL(settings.url).origin}`,
  createClient: (ctx) => createWebhookClient(ctx),
});
