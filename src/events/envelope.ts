import { z } from 'zod';
import { type EventType, eventDataSchemas } from './event-types.js';

/** `source.module = INTEGRATION` marks writes this worker made itself; they must not echo back. */
export const EventSource = z.looseObject({
  module: z.string().min(1).default('CRM'),
  integrationId: z.string().nullish(),
});

/**
 * The envelope every CRM event shares (CONTRACT §1). `type` is any non-empty string here so that
 * unknown types can be recognised, counted and acknowledged instead of rejected as malformed.
 */
export const EventEnvelope = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1),
  organizationId: z.union([z.string().min(1), z.number().int()]).transform(String),
  occurredAt: z.iso.datetime({ offset: true }),
  version: z.number().int().nonnegative().nullish(),
  correlationId: z.string().max(200).nullish(),
  source: EventSource.default({ module: 'CRM' }),
  data: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

const eventSchema = <T extends EventType>(type: T) =>
  EventEnvelope.extend({ type: z.literal(type), data: eventDataSchemas[type] });

/** A fully validated event of a known type: `data` is typed by `type`. */
export const CrmEvent = z.discriminatedUnion('type', [
  eventSchema('CRM_CONTACT_CREATED'),
  eventSchema('CRM_CONTACT_UPDATED'),
  eventSchema('CRM_CONTACT_ARCHIVED'),
  eventSchema('CRM_CONTACT_DELETED'),
  eventSchema('CRM_CONTACT_MERGED'),
  eventSchema('CRM_CONTACT_TAG_ADDED'),
  eventSchema('CRM_CONTACT_TAG_REMOVED'),
  eventSchema('CRM_CONTACT_COMPANY_ASSOCIATED'),
  eventSchema('CRM_CONTACT_COMPANY_DISSOCIATED'),
  eventSchema('CRM_COMPANY_CREATED'),
  eventSchema('CRM_COMPANY_UPDATED'),
  eventSchema('CRM_COMPANY_DELETED'),
  eventSchema('CRM_ACTIVITY_CREATED'),
  eventSchema('CRM_LIST_MEMBER_ADDED'),
  eventSchema('CRM_LIST_MEMBER_REMOVED'),
]);
export type CrmEvent = z.infer<typeof CrmEvent>;
/** What a publisher hands in: defaults (source, snapshot arrays) may be left out. */
export type CrmEventInput = z.input<typeof CrmEvent>;
