import { contactOf } from '../../events/contact-of.js';
import type { CrmEvent } from '../../events/envelope.js';
import type { ContactCompanyRef } from '../../events/snapshots.js';

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
