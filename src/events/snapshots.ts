import { z } from 'zod';

/**
 * Entity snapshots as the CRM API shapes them (CONTRACT §1). Unknown keys are kept, not
 * stripped: the CRM may add fields before we know of them, and mappings may read them.
 */
const Timestamp = z.iso.datetime({ offset: true });
const EntityId = z.union([z.number().int(), z.string().min(1)]);

export const LifecycleStage = z.enum([
  'SUBSCRIBER',
  'LEAD',
  'MARKETING_QUALIFIED',
  'SALES_QUALIFIED',
  'OPPORTUNITY',
  'CUSTOMER',
  'EVANGELIST',
]);
export type LifecycleStage = z.infer<typeof LifecycleStage>;

export const ContactStatus = z.enum(['ACTIVE', 'ARCHIVED', 'MERGED', 'DELETED']);

export const ContactCompanyRef = z.looseObject({
  id: EntityId,
  externalId: z.string().nullish(),
  name: z.string().nullish(),
  domain: z.string().nullish(),
  role: z.string().nullish(),
  isPrimary: z.boolean().nullish(),
});
export type ContactCompanyRef = z.infer<typeof ContactCompanyRef>;

export const Contact = z.looseObject({
  id: EntityId,
  externalId: z.string().nullish(),
  email: z.string().nullish(),
  name: z.string().nullish(),
  givenName: z.string().nullish(),
  familyName: z.string().nullish(),
  phone: z.string().nullish(),
  avatar: z.string().nullish(),
  lifecycleStage: LifecycleStage.nullish(),
  status: ContactStatus.default('ACTIVE'),
  activeModules: z.array(z.string()).default([]),
  isIdentified: z.boolean().nullish(),
  properties: z.record(z.string(), z.unknown()).default({}),
  tags: z.array(z.string()).default([]),
  companies: z.array(ContactCompanyRef).default([]),
  createdAt: Timestamp.nullish(),
  updatedAt: Timestamp.nullish(),
  lastActivityAt: Timestamp.nullish(),
});
export type Contact = z.infer<typeof Contact>;

export const Company = z.looseObject({
  id: EntityId,
  externalId: z.string().nullish(),
  name: z.string().nullish(),
  domain: z.string().nullish(),
  industry: z.string().nullish(),
  size: z.union([z.string(), z.number()]).nullish(),
  plan: z.string().nullish(),
  website: z.string().nullish(),
  phone: z.string().nullish(),
  status: z.string().nullish(),
  properties: z.record(z.string(), z.unknown()).default({}),
  createdAt: Timestamp.nullish(),
  updatedAt: Timestamp.nullish(),
});
export type Company = z.infer<typeof Company>;

export const ActivityType = z.enum(['NOTE', 'CALL', 'MEETING', 'EMAIL', 'TASK', 'PAGE_VIEW', 'CUSTOM_EVENT']);
export type ActivityType = z.infer<typeof ActivityType>;

export const Activity = z.looseObject({
  id: EntityId,
  contactId: EntityId,
  companyId: EntityId.nullish(),
  type: ActivityType,
  content: z.string().nullish(),
  properties: z.record(z.string(), z.unknown()).default({}),
  module: z.string().nullish(),
  occurredAt: Timestamp,
});
export type Activity = z.infer<typeof Activity>;

export const Merge = z.looseObject({
  winner: Contact,
  loserId: EntityId,
  loserExternalId: z.string().nullish(),
  loserEmail: z.string().nullish(),
});
export type Merge = z.infer<typeof Merge>;

/** Tag events carry the contact snapshot plus the tag. */
export const ContactTag = Contact.extend({ tag: z.string().min(1) });
export type ContactTag = z.infer<typeof ContactTag>;

/** Association events carry the contact snapshot plus the company and the role. */
export const ContactCompanyAssociation = Contact.extend({
  company: ContactCompanyRef,
  role: z.string().nullish(),
  isPrimary: z.boolean().nullish(),
});
export type ContactCompanyAssociation = z.infer<typeof ContactCompanyAssociation>;

/** List membership events: the list and the member contact. */
export const ListMembership = z.looseObject({
  list: z.looseObject({ id: EntityId, name: z.string().nullish() }),
  contact: Contact,
});
export type ListMembership = z.infer<typeof ListMembership>;
