import { directContext } from '../../../../test/helpers/connector-context.js';
import { CrmEvent, type CrmEventInput } from '../../../events/envelope.js';
import type { Operation, PushRecord } from '../../types.js';
import { createWebhookClient, type WebhookClientOptions } from '../client.js';
import {
  WebhookCredentials,
  type WebhookCredentialsInput,
  WebhookSettings,
  type WebhookSettingsInput,
} from '../settings.js';

/** Events, records and clients for the webhook connector's tests, built by hand. */

let next = 0;

export function contactEvent(
  overrides: Partial<CrmEventInput> = {},
  data: Record<string, unknown> = {},
): CrmEvent {
  next += 1;
  return CrmEvent.parse({
    id: `evt_test_${next}`,
    type: 'CRM_CONTACT_UPDATED',
    organizationId: 'org_1',
    occurredAt: '2026-11-22T10:30:00.000Z',
    data: { id: 100 + next, email: `person${next}@example.com`, givenName: 'Ada', ...data },
    ...overrides,
  });
}

export function pushRecord(event: CrmEvent, overrides: Partial<PushRecord> = {}): PushRecord {
  const data = event.data as { id?: unknown; email?: unknown };
  return {
    key: `contact:${String(data.id)}`,
    operation: 'upsert' as Operation,
    entityType: 'contact',
    entityId: String(data.id),
    externalId: null,
    payload: { email: data.email, givenName: 'Ada' },
    state: {},
    event,
    ...overrides,
  };
}

export function webhookClient(
  settings: WebhookSettingsInput,
  credentials: WebhookCredentialsInput,
  options: WebhookClientOptions = {},
) {
  const ctx = directContext(WebhookSettings.parse(settings), WebhookCredentials.parse(credentials), {
    key: 'crm-hooks',
  });
  return { ctx, client: createWebhookClient(ctx, options) };
}
