import { z } from 'zod';
import { MailchimpAccountId } from './settings.js';

/**
 * The parts of Mailchimp's answers this connector relies on (Marketing API 3.0). Loose objects:
 * Mailchimp adds fields freely, and only these must be there.
 */

export const MemberStatus = z.enum([
  'subscribed',
  'unsubscribed',
  'cleaned',
  'pending',
  'transactional',
  'archived',
]);
export type MemberStatus = z.infer<typeof MemberStatus>;

export const Member = z.looseObject({
  /** The subscriber hash: changes with the email address. */
  id: z.string().min(1),
  email_address: z.string(),
  /** Stable across email changes: what a link points to. */
  contact_id: z.string().min(1).optional(),
  status: z.string(),
  last_changed: z.string().optional(),
  tags: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type Member = z.infer<typeof Member>;

/** A member read for its tags alone (`fields=id,status,tags`): all a tag event needs to know. */
export const MemberTags = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  tags: z.array(z.looseObject({ name: z.string() })).default([]),
});
export type MemberTags = z.infer<typeof MemberTags>;

export const BatchSubscribeError = z.looseObject({
  email_address: z.string().nullish(),
  error: z.string().default(''),
  error_code: z.string().nullish(),
  field: z.string().nullish(),
  field_message: z.string().nullish(),
});
export type BatchSubscribeError = z.infer<typeof BatchSubscribeError>;

export const BatchSubscribeAnswer = z.looseObject({
  new_members: z.array(Member).default([]),
  updated_members: z.array(Member).default([]),
  errors: z.array(BatchSubscribeError).default([]),
});
export type BatchSubscribeAnswer = z.infer<typeof BatchSubscribeAnswer>;

export const MergeFieldType = z.enum([
  'text',
  'number',
  'address',
  'phone',
  'date',
  'url',
  'imageurl',
  'radio',
  'dropdown',
  'birthday',
  'zip',
]);
export type MergeFieldType = z.infer<typeof MergeFieldType>;

export const MergeField = z.looseObject({
  merge_id: z.number().optional(),
  tag: z.string().min(1),
  name: z.string().default(''),
  type: MergeFieldType,
  required: z.boolean().default(false),
  options: z
    .looseObject({
      date_format: z.string().optional(),
      phone_format: z.string().optional(),
      choices: z.array(z.string()).optional(),
    })
    .default({}),
});
export type MergeField = z.infer<typeof MergeField>;

export const MergeFieldsAnswer = z.looseObject({
  merge_fields: z.array(MergeField),
  total_items: z.number().optional(),
});

/**
 * GET / with `fields=account_id` (API Root,
 * https://mailchimp.com/developer/marketing/api/root/list-api-root-resources/): the account the
 * key belongs to. Not `login_id`, which names the key's user and is the same in all their accounts.
 */
export const ApiRootAnswer = z.looseObject({ account_id: MailchimpAccountId });

export const ListAnswer = z.looseObject({ id: z.string(), name: z.string() });

export const NoteAnswer = z.looseObject({ id: z.union([z.number(), z.string()]).transform(String) });

/**
 * GET …/members/{ref}/notes (List recent member notes,
 * https://mailchimp.com/developer/marketing/api/list-member-notes/list-recent-member-notes/): what
 * a look for a note an earlier attempt may have added reads of each.
 */
export const MemberNote = z.looseObject({
  id: z.union([z.number(), z.string()]).transform(String),
  note: z.string(),
  created_at: z.string(),
});
export type MemberNote = z.infer<typeof MemberNote>;

export const MemberNotesAnswer = z.looseObject({
  notes: z.array(MemberNote),
  total_items: z.number().optional(),
});
export type MemberNotesAnswer = z.infer<typeof MemberNotesAnswer>;

/**
 * GET …/members/{ref}/events (List member events,
 * https://mailchimp.com/developer/marketing/api/list-member-events/list-member-events/). Properties
 * are strings as sent; anything else is kept and compared as text.
 */
export const MemberEvent = z.looseObject({
  name: z.string(),
  properties: z.record(z.string(), z.unknown()).nullish(),
  occurred_at: z.string().nullish(),
});
export type MemberEvent = z.infer<typeof MemberEvent>;

export const MemberEventsAnswer = z.looseObject({
  events: z.array(MemberEvent),
  total_items: z.number().optional(),
});
export type MemberEventsAnswer = z.infer<typeof MemberEventsAnswer>;

export const Segment = z.looseObject({
  id: z.union([z.number(), z.string()]).transform(String),
  name: z.string(),
});
export type Segment = z.infer<typeof Segment>;

export const SegmentsAnswer = z.looseObject({
  segments: z.array(Segment),
  total_items: z.number().optional(),
});

export const SegmentMembersAnswer = z.looseObject({
  members_added: z.array(z.looseObject({ email_address: z.string() })).default([]),
  members_removed: z.array(z.looseObject({ email_address: z.string() })).default([]),
  errors: z
    .array(z.looseObject({ email_addresses: z.array(z.string()).default([]), error: z.string().default('') }))
    .default([]),
});
export type SegmentMembersAnswer = z.infer<typeof SegmentMembersAnswer>;

/** RFC 7807 problem details, the shape of every Mailchimp error answer. */
export const Problem = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.looseObject({ field: z.string().optional(), message: z.string().optional() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** A batch operation run (POST /batches, GET /batches/{id}); only what the connector reads. */
export const BatchStatus = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  total_operations: z.number().optional(),
  finished_operations: z.number().optional(),
  errored_operations: z.number().optional(),
  /** Set once `status` is `finished`: a link to the results archive, needing no credentials. */
  response_body_url: z.string().default(''),
});
export type BatchStatus = z.infer<typeof BatchStatus>;

/** One operation's outcome in a batch's results archive; `response` is the answer's JSON text. */
export const BatchOperationResult = z.looseObject({
  status_code: z.number().int(),
  operation_id: z.string().nullish(),
  response: z.string().default(''),
});
export type BatchOperationResult = z.infer<typeof BatchOperationResult>;
