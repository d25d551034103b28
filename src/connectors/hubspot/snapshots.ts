import type { CrmEvent } from '../../events/envelope.js';
import type { Contact, ContactCompanyRef } from '../../events/snapshots.js';

/** The contact an event carries: the record itself, a merge's winner, a list's member. */
export function contactOf(event: CrmEvent): Contact | null {
  switch (event.type) {
    case 'CRM_CONTACT_MERGED':
      return event.data.winner;
    case 'CRM_LIST_MEMBER_ADDED':
    case 'CRM_LIST_MEMBER_REMOVED':
      return event.data.contact;
    case 'CRM_CONTACT_CREATED':
    case 'CRM_CONTACT_UPDATED':
    case 'CRM_CONTACT_ARCHIVED':
    case 'CRM_CONTACT_DELETED':
    case 'CRM_CONTACT_TAG_ADDED':
    case 'CRM_CONTACT_TAG_REMOVED':
    case 'CRM_CONTACT_COMPANY_ASSOCIATED':
    case 'CRM_CONTACT_COMPANY_DISSOCIATED':
      return event.data;
    default:
      return null;
  }
}

/**
 * The companies the contact should be associated with after this event: its `companies` list,
 * with the event's own company added (ASSOCIATED) or taken out (DISSOCIATED) in case the
 * snapshot was taken a moment before.
 */
export function companiesOf(event: CrmEvent): ContactCompanyRef[] {
  const contact = contactOf(event);
  let companies = [...(contact?.companies ?? [])];
  if (event.type === 'CRM_CONTACT_COMPANY_ASSOCIATED') {
    const company = {
      ...event.data.company,
      isPrimary: event.data.isPrimary ?? event.data.company.isPrimary,
    };
    companies = [...companies.filter((c) => String(c.id) !== String(company.id)), company];
  }
  if (event.type === 'CRM_CONTACT_COMPANY_DISSOCIATED') {
    const gone = String(event.data.company.id);
    companies = companies.filter((c) => String(c.id) !== gone);
  }
  return companies;
}
