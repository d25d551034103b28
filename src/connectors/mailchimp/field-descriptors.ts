import type { FieldDescriptor, MissingFieldVerdict } from '../types.js';
import { OPTIONAL_MERGE_FIELDS } from './default-mappings.js';
import { MERGE_TAG } from './member-draft.js';
import type { MergeField, MergeFieldType } from './responses.js';

const TYPES: Record<MergeFieldType, FieldDescriptor['type']> = {
  text: 'string',
  number: 'number',
  address: 'address',
  phone: 'phone',
  date: 'date',
  birthday: 'date',
  url: 'string',
  imageurl: 'string',
  radio: 'enumeration',
  dropdown: 'enumeration',
  zip: 'string',
};

/** The audience's merge fields as mapping targets, with the address itself first. */
export function describeMergeFields(fields: Iterable<MergeField>): FieldDescriptor[] {
  const described: FieldDescriptor[] = [
    { name: 'EMAIL', label: 'Email address', type: 'string', required: true },
  ];
  for (const field of fields) {
    described.push({
      name: field.tag,
      label: field.name || field.tag,
      type: TYPES[field.type],
      ...(field.options.choices ? { options: field.options.choices } : {}),
      required: field.required,
    });
  }
  return described;
}

/**
 * A mapping target the audience lacks, as the push will treat it (push-members.ts): with
 * `createMissingMergeFields` the first push creates any valid merge tag; without it the default
 * mapping's optional fields are left out, and anything else fails every contact. The tag is taken
 * as written: a lower-case target is not guessed at.
 *
 * @example
 * explainMissingMergeField('LIFECYCLE', { createMissingMergeFields: false });
 * // { accepted: true, note: 'one of the default mapping’s optional merge fields (LIFECYCLE, COMPANY): left out …' }
 */
export function explainMissingMergeField(
  target: string,
  settings: { createMissingMergeFields: boolean },
): MissingFieldVerdict {
  if (!MERGE_TAG.test(target)) {
    return {
      accepted: false,
      note: 'a merge tag is 1–10 capital letters, digits or "_", starting with a letter, so settings.createMissingMergeFields cannot create it; use one of the audience’s fields or remove it from the mapping',
    };
  }
  if (settings.createMissingMergeFields) {
    return {
      accepted: true,
      note: 'settings.createMissingMergeFields is true, so the first push that sends it creates it, typed from that value (number, date, address, url, else text)',
    };
  }
  if (OPTIONAL_MERGE_FIELDS.has(target)) {
    return {
      accepted: true,
      note: `one of the default mapping’s optional merge fields (${[...OPTIONAL_MERGE_FIELDS].join(', ')}): left out of every push until the audience has it; add it in Mailchimp, or set settings.createMissingMergeFields: true to have it created`,
    };
  }
  return {
    accepted: false,
    note: 'add it to the audience in Mailchimp, set settings.createMissingMergeFields: true to have the first push create it, or remove it from the mapping',
  };
}
