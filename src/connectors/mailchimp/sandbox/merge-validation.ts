import { MergeFieldType } from '../responses.js';
import { invalid, SandboxProblem } from './problem.js';

/** A merge field as the sandbox keeps it (the API's shape). */
export interface SandboxMergeField {
  merge_id: number;
  tag: string;
  name: string;
  type:
    | 'text'
    | 'number'
    | 'address'
    | 'phone'
    | 'date'
    | 'url'
    | 'imageurl'
    | 'radio'
    | 'dropdown'
    | 'birthday'
    | 'zip';
  required: boolean;
  public: boolean;
  default_value: string;
  options: { date_format?: string; phone_format?: string; choices?: string[]; size?: number };
}

export const MERGE_FIELD_TYPES: readonly SandboxMergeField['type'][] = MergeFieldType.options;

/** The date format as a pattern: `MM/DD/YYYY` → /^\d{2}\/\d{2}\/\d{4}$/. */
function datePattern(format: string): RegExp {
  const body = format
    .replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    .replace('YYYY', '\\d{4}')
    .replace('MM', '(0[1-9]|1[0-2])')
    .replace('DD', '(0[1-9]|[12]\\d|3[01])');
  return new RegExp(`^${body}$`);
}

/** What is wrong with a value for a field, as Mailchimp says it; null when it fits. */
export function mergeValueProblem(field: SandboxMergeField, value: unknown): string | null {
  if (value === '' || value === null) return null;
  switch (field.type) {
    case 'number':
      return (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && Number.isFinite(Number(value)))
        ? null
        : 'Please enter a number';
    case 'date':
      return typeof value === 'string' && datePattern(field.options.date_format ?? 'MM/DD/YYYY').test(value)
        ? null
        : `Please enter the date (${field.options.date_format ?? 'MM/DD/YYYY'})`;
    case 'birthday':
      return typeof value === 'string' && datePattern(field.options.date_format ?? 'MM/DD').test(value)
        ? null
        : `Please enter a month and day (${field.options.date_format ?? 'MM/DD'})`;
    case 'phone':
      if (typeof value !== 'string') return 'Please enter a phone number';
      return field.options.phone_format === 'US' && !/^(\(\d{3}\) ?|\d{3}-)\d{3}-\d{4}$/.test(value)
        ? 'Please enter a valid US phone number (###-###-####)'
        : null;
    case 'address': {
      if (typeof value !== 'object' || Array.isArray(value)) return 'Please enter a complete address';
      const a = value as Record<string, unknown>;
      return ['addr1', 'city', 'state', 'zip'].every((k) => typeof a[k] === 'string' && a[k] !== '')
        ? null
        : 'Please enter a complete address';
    }
    case 'url':
    case 'imageurl':
      return typeof value === 'string' && /^https?:\/\/\S+$/.test(value) ? null : 'Please enter a valid URL';
    case 'radio':
    case 'dropdown':
      return typeof value === 'string' && (field.options.choices ?? []).includes(value)
        ? null
        : `Please choose one of: ${(field.options.choices ?? []).join(', ')}`;
    case 'zip':
    case 'text':
      if (typeof value !== 'string' && typeof value !== 'number') return 'Please enter text';
      return String(value).length > 255 ? 'Please enter 255 characters or fewer' : null;
  }
}

export interface MergeFieldIssue {
  field: string;
  message: string;
}

/** Every issue with the merge fields sent for a member; `creating` checks required fields too. */
export function mergeFieldIssues(
  fields: ReadonlyMap<string, SandboxMergeField>,
  values: Record<string, unknown>,
  creating: boolean,
): MergeFieldIssue[] {
  const issues: MergeFieldIssue[] = [];
  for (const [tag, value] of Object.entries(values)) {
    const field = fields.get(tag);
    if (!field) {
      issues.push({ field: tag, message: 'This merge field does not exist in the audience' });
      continue;
    }
    const problem = mergeValueProblem(field, value);
    if (problem) issues.push({ field: tag, message: problem });
  }
  if (creating) {
    for (const field of fields.values()) {
      if (field.required && (values[field.tag] === undefined || values[field.tag] === '')) {
        issues.push({ field: field.tag, message: 'This value is required' });
      }
    }
  }
  return issues;
}

export function assertMergeFields(
  fields: ReadonlyMap<string, SandboxMergeField>,
  values: Record<string, unknown>,
  creating: boolean,
): void {
  const issues = mergeFieldIssues(fields, values, creating);
  if (issues.length > 0) throw invalid('Your merge fields were invalid.', issues);
}

export function checkNewMergeField(
  existing: ReadonlyMap<string, SandboxMergeField>,
  body: Record<string, unknown>,
) {
  const tag = typeof body.tag === 'string' ? body.tag : '';
  if (!/^[A-Z][A-Z0-9_]{0,9}$/.test(tag)) {
    throw invalid('The resource submitted could not be validated.', [
      { field: 'tag', message: 'A merge tag is 1–10 capital letters, digits or underscores' },
    ]);
  }
  if (existing.has(tag))
    throw new SandboxProblem(
      400,
      'Invalid Resource',
      `A Merge Field with the tag "${tag}" already exists for this list.`,
    );
  if (!MERGE_FIELD_TYPES.includes(body.type as SandboxMergeField['type'])) {
    throw invalid('The resource submitted could not be validated.', [
      { field: 'type', message: `Must be one of ${MERGE_FIELD_TYPES.join(', ')}` },
    ]);
  }
}
