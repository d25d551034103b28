import type { MappingsInput } from '../../mappings/schema.js';

/**
 * The mapping an integration gets when it declares none: the address and the audience's stock
 * merge fields, plus lifecycle stage and company name.
 */
export const mailchimpDefaultMappings: MappingsInput = {
  contact: {
    match: 'email',
    fields: [
      { source: 'email', target: 'EMAIL', direction: 'both' },
      { source: 'givenName', target: 'FNAME', direction: 'both' },
      { source: 'familyName', target: 'LNAME', direction: 'both' },
      { source: 'phone', target: 'PHONE' },
      { source: 'lifecycleStage', target: 'LIFECYCLE' },
      { source: 'companies[0].name', target: 'COMPANY' },
    ],
  },
};

/**
 * Stock audiences have FNAME, LNAME, ADDRESS and PHONE only: these two are sent when the
 * audience has them (or createMissingMergeFields creates them) and left out otherwise, instead
 * of failing every contact of an audience that never wanted them.
 */
export const OPTIONAL_MERGE_FIELDS: ReadonlySet<string> = new Set(['LIFECYCLE', 'COMPANY']);

/** The payload key that carries the member's email address, not a merge field. */
export const EMAIL_KEY = 'EMAIL';
