import type { FieldDescriptor } from '../types.js';
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
