import { AssociationTypes } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum as V4Category } from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import {
  AssociationSpecAssociationCategoryEnum as ObjectsCategory,
  type PublicAssociationsForObject,
} from '@hubspot/api-client/lib/codegen/crm/objects/index.js';

/**
 * HubSpot's built-in (HUBSPOT_DEFINED) association type ids, from the SDK's `AssociationTypes`
 * (https://developers.hubspot.com/docs/api/crm/associations/v4#association-type-id-values).
 */
export const CONTACT_TO_COMPANY = AssociationTypes.contactToCompany; // 279
export const PRIMARY_CONTACT_TO_COMPANY = AssociationTypes.primaryContactToCompany; // 1

/** Which engagement object a CRM activity type becomes, and how it is tied to its records. */
export const ENGAGEMENTS = {
  NOTE: {
    objectType: 'notes',
    toContact: AssociationTypes.noteToContact,
    toCompany: AssociationTypes.noteToCompany,
  },
  CALL: {
    objectType: 'calls',
    toContact: AssociationTypes.callToContact,
    toCompany: AssociationTypes.callToCompany,
  },
  MEETING: {
    objectType: 'meetings',
    toContact: AssociationTypes.meetingToContact,
    toCompany: AssociationTypes.meetingToCompany,
  },
  EMAIL: {
    objectType: 'emails',
    toContact: AssociationTypes.emailToContact,
    toCompany: AssociationTypes.emailToCompany,
  },
  TASK: {
    objectType: 'tasks',
    toContact: AssociationTypes.taskToContact,
    toCompany: AssociationTypes.taskToCompany,
  },
} as const;
export type EngagementKind = keyof typeof ENGAGEMENTS;

/** An association given at creation (`associations` of a batch create input). */
export function associateAtCreate(toId: string, associationTypeId: number): PublicAssociationsForObject {
  return {
    to: { id: toId },
    types: [{ associationCategory: ObjectsCategory.HubspotDefined, associationTypeId }],
  };
}

/** An association type for the v4 associations API. */
export function v4Type(associationTypeId: number) {
  return { associationCategory: V4Category.HubspotDefined, associationTypeId };
}
