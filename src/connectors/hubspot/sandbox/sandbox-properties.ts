/**
 * The property catalog the sandbox starts with: a small, faithful subset of a fresh HubSpot
 * account's definitions (names, types, field types, options, read-only flags).
 */
export interface SandboxProperty {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
  fieldType: string;
  groupName: string;
  description: string;
  options: { label: string; value: string; hidden: boolean; displayOrder: number }[];
  hasUniqueValue?: boolean;
  calculated?: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
  hubspotDefined?: boolean;
  archived?: boolean;
  createdAt?: string;
  updatedAt?: string;
}

function prop(
  name: string,
  type: SandboxProperty['type'] = 'string',
  extra: {
    options?: string[];
    readOnly?: boolean;
    unique?: boolean;
    fieldType?: string;
    group?: string;
  } = {},
): SandboxProperty {
  const fieldType =
    extra.fieldType ??
    (
      {
        string: 'text',
        number: 'number',
        date: 'date',
        datetime: 'date',
        enumeration: 'select',
        bool: 'booleancheckbox',
        phone_number: 'phonenumber',
      } as const
    )[type];
  return {
    name,
    label: name.replace(/^hs_/, '').replace(/_/g, ' '),
    type,
    fieldType,
    groupName: extra.group ?? 'information',
    description: '',
    options: (extra.options ?? (type === 'bool' ? ['true', 'false'] : [])).map((value, displayOrder) => ({
      label: value,
      value,
      hidden: false,
      displayOrder,
    })),
    hasUniqueValue: extra.unique ?? false,
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: extra.readOnly ?? false,
    },
    hubspotDefined: true,
  };
}

const LIFECYCLE = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];
const INDUSTRY = [
  'ACCOUNTING',
  'COMPUTER_SOFTWARE',
  'FINANCIAL_SERVICES',
  'HOSPITAL_HEALTH_CARE',
  'INFORMATION_TECHNOLOGY_AND_SERVICES',
  'INTERNET',
  'MARKETING_AND_ADVERTISING',
  'RETAIL',
];
const COMMON = [
  prop('hs_object_id', 'number', { readOnly: true }),
  prop('createdate', 'datetime', { readOnly: true }),
  prop('hs_lastmodifieddate', 'datetime', { readOnly: true }),
];

export function defaultProperties(): Record<string, SandboxProperty[]> {
  return {
    contacts: [
      ...COMMON,
      prop('lastmodifieddate', 'datetime', { readOnly: true }),
      prop('email', 'string', { unique: true }),
      prop('firstname'),
      prop('lastname'),
      prop('phone', 'string', { fieldType: 'phonenumber' }),
      prop('mobilephone', 'string', { fieldType: 'phonenumber' }),
      prop('company'),
      prop('website'),
      prop('jobtitle'),
      prop('lifecyclestage', 'enumeration', { options: LIFECYCLE, fieldType: 'radio' }),
      prop('hs_lead_status', 'enumeration', {
        options: ['NEW', 'OPEN', 'IN_PROGRESS', 'CONNECTED', 'UNQUALIFIED'],
      }),
      prop('num_associated_deals', 'number', { readOnly: true }),
    ],
    companies: [
      ...COMMON,
      prop('name'),
      prop('domain'),
      prop('industry', 'enumeration', { options: INDUSTRY }),
      prop('phone', 'string', { fieldType: 'phonenumber' }),
      prop('website'),
      prop('city'),
      prop('numberofemployees', 'number'),
      prop('lifecyclestage', 'enumeration', { options: LIFECYCLE, fieldType: 'radio' }),
    ],
    notes: [
      ...COMMON,
      prop('hs_timestamp', 'datetime'),
      prop('hs_note_body', 'string', { fieldType: 'html' }),
    ],
    calls: [
      ...COMMON,
      prop('hs_timestamp', 'datetime'),
      prop('hs_call_title'),
      prop('hs_call_body', 'string', { fieldType: 'html' }),
      prop('hs_call_duration', 'number'),
      prop('hs_call_direction', 'enumeration', { options: ['INBOUND', 'OUTBOUND'] }),
      prop('hs_call_status', 'enumeration', {
        options: [
          'BUSY',
          'CALLING_CRM_USER',
          'CANCELED',
          'COMPLETED',
          'CONNECTING',
          'FAILED',
          'IN_PROGRESS',
          'NO_ANSWER',
          'QUEUED',
          'RINGING',
        ],
      }),
    ],
    meetings: [
      ...COMMON,
      prop('hs_timestamp', 'datetime'),
      prop('hs_meeting_title'),
      prop('hs_meeting_body', 'string', { fieldType: 'html' }),
      prop('hs_meeting_start_time', 'datetime'),
      prop('hs_meeting_end_time', 'datetime'),
      prop('hs_meeting_outcome', 'enumeration', {
        options: ['SCHEDULED', 'COMPLETED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED'],
      }),
    ],
    emails: [
      ...COMMON,
      prop('hs_timestamp', 'datetime'),
      prop('hs_email_subject'),
      prop('hs_email_text', 'string', { fieldType: 'textarea' }),
      prop('hs_email_direction', 'enumeration', { options: ['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL'] }),
      prop('hs_email_status', 'enumeration', {
        options: ['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT'],
      }),
    ],
    tasks: [
      ...COMMON,
      prop('hs_timestamp', 'datetime'),
      prop('hs_task_subject'),
      prop('hs_task_body', 'string', { fieldType: 'html' }),
      prop('hs_task_status', 'enumeration', {
        options: ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED'],
      }),
      prop('hs_task_priority', 'enumeration', { options: ['NONE', 'LOW', 'MEDIUM', 'HIGH'] }),
      prop('hs_task_type', 'enumeration', { options: ['EMAIL', 'CALL', 'TODO'] }),
    ],
  };
}
