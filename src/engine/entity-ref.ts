import type { Operation } from '../connectors/types.js';
import { contactOf } from '../events/contact-of.js';
import type { CrmEvent } from '../events/envelope.js';
import type { EntityType, EventType } from '../events/event-types.js';

/** The CRM record an event is about: what links, hashes and coalescing are keyed by. */
export interface EntityRef {
  entityType: EntityType;
  entityId: string;
}

export function entityRefOf(event: CrmEvent): EntityRef {
  switch (event.type) {
    case 'CRM_CONTACT_MERGED':
      return { entityType: 'contact', entityId: String(event.data.winner.id) };
    case 'CRM_COMPANY_CREATED':
    case 'CRM_COMPANY_UPDATED':
    case 'CRM_COMPANY_DELETED':
      return { entityType: 'company', entityId: String(event.data.id) };
    case 'CRM_ACTIVITY_CREATED':
      return { entityType: 'activity', entityId: String(event.data.id) };
    case 'CRM_LIST_MEMBER_ADDED':
    case 'CRM_LIST_MEMBER_REMOVED':
      return {
        entityType: 'list_membership',
        entityId: `${String(event.data.list.id)}:${String(event.data.contact.id)}`,
      };
    default:
      return { entityType: 'contact', entityId: String(event.data.id) };
  }
}

/** The snapshot the mapping reads: the record itself, the winner of a merge, a list's member. */
export function snapshotOf(event: CrmEvent): Record<string, unknown> {
  return contactOf(event) ?? event.data;
}

const operationOf: Record<EventType, Operation> = {
  CRM_CONTACT_CREATED: 'upsert',
  CRM_CONTACT_UPDATED: 'upsert',
  CRM_CONTACT_ARCHIVED: 'archive',
  CRM_CONTACT_DELETED: 'archive',
  CRM_CONTACT_MERGED: 'merge',
  CRM_CONTACT_TAG_ADDED: 'tag_add',
  CRM_CONTACT_TAG_REMOVED: 'tag_remove',
  CRM_CONTACT_COMPANY_ASSOCIATED: 'associate',
  CRM_CONTACT_COMPANY_DISSOCIATED: 'dissociate',
  CRM_COMPANY_CREATED: 'upsert',
  CRM_COMPANY_UPDATED: 'upsert',
  CRM_COMPANY_DELETED: 'archive',
  CRM_ACTIVITY_CREATED: 'activity',
  CRM_LIST_MEMBER_ADDED: 'list_add',
  CRM_LIST_MEMBER_REMOVED: 'list_remove',
};

/**
 * `state` operations replace the record's whole provider state: only the newest matters, so
 * pending ones coalesce and older ones are stale. `delta` operations (a tag, an association, a
 * list membership, an activity) each change one thing and must all be applied.
 */
export type OperationClass = 'state' | 'delta';

export function classOf(operation: Operation): OperationClass {
  return operation === 'upsert' || operation === 'archive' || operation === 'merge' ? 'state' : 'delta';
}

/**
 * The operation a connector is asked to do. A connector that cannot apply a contact delta
 * natively gets the contact's snapshot as an upsert instead: the delta is in the snapshot too.
 */
export function resolveOperation(
  eventType: EventType,
  entityType: EntityType,
  supported: readonly Operation[] | undefined,
): Operation | null {
  const wanted = operationOf[eventType];
  if (supported?.includes(wanted)) return wanted;
  if (entityType === 'contact' && supported?.includes('upsert') && classOf(wanted) === 'delta')
    return 'upsert';
  return null;
}
