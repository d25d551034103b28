import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PushRecord } from '../types.js';

/**
 * The message a receiver gets: the Standard Webhooks payload shape (`type`, `timestamp`, data)
 * with the CRM event and this integration's mapped payload side by side. docs/connectors/webhook.md
 * prints it as JSON Schema (input mode: extra properties allowed, so receivers validating with it
 * keep working when fields are added); a test keeps the two equal.
 */
export const WebhookDelivery = z.object({
  id: z.string().meta({ description: 'The same as the webhook-id header; receivers deduplicate on it.' }),
  type: z.string().meta({ description: 'The CRM event type, e.g. CRM_CONTACT_UPDATED.' }),
  timestamp: z.string().meta({
    format: 'date-time',
    description: "When the change happened in the CRM (the event's occurredAt), not when it was sent.",
  }),
  operation: z.string().meta({
    description:
      'upsert | archive | merge | tag_add | tag_remove | associate | dissociate | activity | list_add | list_remove',
  }),
  entity: z.object({
    type: z.string().meta({ description: 'contact | company | activity | list_membership' }),
    id: z.string().meta({ description: 'The CRM id; for list memberships listId:contactId.' }),
  }),
  integration: z.object({ key: z.string() }),
  event: z
    .record(z.string(), z.unknown())
    .meta({ description: 'The CRM event envelope, snapshot included.' }),
  payload: z
    .record(z.string(), z.unknown())
    .meta({ description: "The fields this integration's mapping produced (target → value)." }),
  externalId: z
    .string()
    .optional()
    .meta({ description: 'The id the receiver answered for this record before, if it ever did.' }),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** What `check()` sends so an admin can see the receiver accept a signed message. */
export const WebhookPing = z.object({
  id: z.string(),
  type: z.literal('crm-sync.ping'),
  timestamp: z.string(),
  integration: z.object({ key: z.string() }),
});
export type WebhookPing = z.infer<typeof WebhookPing>;

// Header-safe and short enough for any receiver's id column; CRM ids (`evt_01J…`) always are.
const SAFE_ID = /^[A-Za-z0-9._:~-]{1,128}$/;

/**
 * The `webhook-id` of an event's delivery: the event id itself, so a retry or a replay carries
 * the same id and a receiver that deduplicates (as the Standard Webhooks spec asks) ignores it,
 * and so a receiver can correlate with the CRM. Like one Standard Webhooks message fanned out
 * to several endpoints, two integrations get the same id for the same event; the body's
 * `integration.key` tells them apart. An id unsafe in a header is replaced by a stable digest.
 */
export function deliveryId(eventId: string): string {
  if (SAFE_ID.test(eventId)) return eventId;
  return `evt_sha256_${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
}

export function buildDelivery(record: PushRecord, integrationKey: string): WebhookDelivery {
  const delivery: WebhookDelivery = {
    id: deliveryId(record.event.id),
    type: record.event.type,
    timestamp: record.event.occurredAt,
    operation: record.operation,
    entity: { type: record.entityType, id: record.entityId },
    integration: { key: integrationKey },
    event: record.event,
    payload: record.payload,
  };
  if (record.externalId !== null) delivery.externalId = record.externalId;
  return delivery;
}

export function buildPing(id: string, integrationKey: string, now: Date): WebhookPing {
  return { id, type: 'crm-sync.ping', timestamp: now.toISOString(), integration: { key: integrationKey } };
}

/**
 * What a receiver may answer: any 2xx, and optionally JSON naming its own id for the record
 * (`externalId`, else `id`), which crm-sync stores on the link and writes back to the CRM.
 */
const ReceiverAnswer = z.looseObject({
  externalId: z.union([z.string().min(1).max(255), z.number()]).optional(),
  id: z.union([z.string().min(1).max(255), z.number()]).optional(),
});

export function externalIdFromAnswer(body: string, contentType: string | undefined, sentId: string) {
  if (!contentType?.toLowerCase().includes('json') || body.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null; // a receiver owes us a 2xx, not well-formed JSON
  }
  const answer = ReceiverAnswer.safeParse(json);
  if (!answer.success) return null;
  const id = answer.data.externalId ?? answer.data.id;
  if (id === undefined) return null;
  // Receivers that echo the delivery back would otherwise turn every event id into a record id.
  return String(id) === sentId ? null : String(id);
}
