import type { CrmEvent } from './envelope.js';
import type { Contact } from './snapshots.js';

/** The contact an event carries: the record itself, a merge's winner, a list's member. */
export function contactOf(event: CrmEvent): Contact | null {
  switch (event.type) {
    case 'CRM_CONTACT_MERGED':
      return event.data.winner;
    case 'CRM_LIST_MEMBER_ADDED':
    case 'CRM_LIST_MEMBER_REMOVED':
      return event.data.contact;
    case 'CRM_ACTIVITY_CREATED':
    case 'CRM_COMPANY_CREATED':
    case 'CRM_COMPANY_UPDATED':
    case 'CRM_COMPANY_DELETED':
      return null;
    default:
      return event.data;
  }
}
