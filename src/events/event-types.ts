import { z } from 'zod';
import {
  Activity,
  Company,
  Contact,
  ContactCompanyAssociation,
  ContactTag,
  ListMembership,
  Merge,
} from './snapshots.js';

/** Every event type the CRM publishes, with the snapshot schema its `data` must match. */
export const eventDataSchemas = {
  CRM_CONTACT_CREATED: Contact,
  CRM_CONTACT_UPDATED: Contact,
  CRM_CONTACT_ARCHIVED: Contact,
  CRM_CONTACT_DELETED: Contact,
  CRM_CONTACT_MERGED: Merge,
  CRM_CONTACT_TAG_ADDED: ContactTag,
  CRM_CONTACT_TAG_REMOVED: ContactTag,
  CRM_CONTACT_COMPANY_ASSOCIATED: ContactCompanyAssociation,
  CRM_CONTACT_COMPANY_DISSOCIATED: ContactCompanyAssociation,
  CRM_COMPANY_CREATED: Company,
  CRM_COMPANY_UPDATED: Company,
  CRM_COMPANY_DELETED: Company,
  CRM_ACTIVITY_CREATED: Activity,
  CRM_LIST_MEMBER_ADDED: ListMembership,
  CRM_LIST_MEMBER_REMOVED: ListMembership,
} as const;

export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];
export const EventType = z.enum(Object.keys(eventDataSchemas) as [keyof typeof eventDataSchemas]);
export type EventType = keyof typeof eventDataSchemas;

export function isKnownEventType(type: string): type is EventType {
  return Object.hasOwn(eventDataSchemas, type);
}

/** The CRM entity an event is about: what a sync link and the sync hash are keyed by. */
export type EntityType = 'contact' | 'company' | 'activity' | 'list_membership';

export const entityTypeOf: Record<EventType, EntityType> = {
  CRM_CONTACT_CREATED: 'contact',
  CRM_CONTACT_UPDATED: 'contact',
  CRM_CONTACT_ARCHIVED: 'contact',
  CRM_CONTACT_DELETED: 'contact',
  CRM_CONTACT_MERGED: 'contact',
  CRM_CONTACT_TAG_ADDED: 'contact',
  CRM_CONTACT_TAG_REMOVED: 'contact',
  CRM_CONTACT_COMPANY_ASSOCIATED: 'contact',
  CRM_CONTACT_COMPANY_DISSOCIATED: 'contact',
  CRM_COMPANY_CREATED: 'company',
  CRM_COMPANY_UPDATED: 'company',
  CRM_COMPANY_DELETED: 'company',
  CRM_ACTIVITY_CREATED: 'activity',
  CRM_LIST_MEMBER_ADDED: 'list_membership',
  CRM_LIST_MEMBER_REMOVED: 'list_membership',
};
