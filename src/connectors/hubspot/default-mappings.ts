import type { MappingsInput } from '../../mappings/schema.js';
import { CUSTOM_PROPERTIES_KEY } from './custom-properties.js';

/**
 * HubSpot's internal values for the CRM's lifecycle stages (the stage labels differ; these are
 * the values the API takes: https://knowledge.hubspot.com/records/use-lifecycle-stages).
 */
export const LIFECYCLE_STAGES = {
  SUBSCRIBER: 'subscriber',
  LEAD: 'lead',
  MARKETING_QUALIFIED: 'marketingqualifiedlead',
  SALES_QUALIFIED: 'salesqualifiedlead',
  OPPORTUNITY: 'opportunity',
  CUSTOMER: 'customer',
  EVANGELIST: 'evangelist',
} as const;

/**
 * Used when an integration gives no mapping: HubSpot's standard contact and company
 * properties, and the CRM's custom properties by name where HubSpot has them
 * (custom-properties.ts). Activities need none (see engagement-properties.ts). `industry` is an
 * enumeration at HubSpot (COMPUTER_SOFTWARE, …): the CRM's value must be one of its options.
 */
export const defaultMappings = {
  contact: {
    match: 'email',
    fields: [
      { source: 'email', target: 'email', direction: 'both' },
      { source: 'givenName', target: 'firstname', direction: 'both' },
      { source: 'familyName', target: 'lastname', direction: 'both' },
      { source: 'phone', target: 'phone', direction: 'both' },
      { source: 'lifecycleStage', target: 'lifecyclestage', map: { ...LIFECYCLE_STAGES } },
      { source: 'properties', target: CUSTOM_PROPERTIES_KEY },
    ],
  },
  company: {
    match: 'domain',
    fields: [
      { source: 'name', target: 'name', direction: 'both' },
      { source: 'domain', target: 'domain', direction: 'both' },
      { source: 'industry', target: 'industry' },
      { source: 'phone', target: 'phone', direction: 'both' },
      { source: 'website', target: 'website', direction: 'both' },
      { source: 'properties', target: CUSTOM_PROPERTIES_KEY },
    ],
  },
} satisfies MappingsInput;
