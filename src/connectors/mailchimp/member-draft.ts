import { z } from 'zod';
import { ConfigError, type ConnectorError, PermanentError } from '../errors.js';
import { EMAIL_KEY, OPTIONAL_MERGE_FIELDS } from './default-mappings.js';
import { dateParts, formatMergeValue } from './merge-field-format.js';
import type { MergeField, MergeFieldType } from './responses.js';
import { subscriberHash } from './subscriber-hash.js';

/** A member as the mapped payload describes it, merge fields already in Mailchimp's formats. */
export interface MemberDraft {
  email: string;
  hash: string;
  mergeFields: Record<string, unknown>;
}

export type DraftOutcome =
  | { kind: 'draft'; draft: MemberDraft }
  | { kind: 'skip'; reason: string }
  | { kind: 'error'; error: ConnectorError };

const Email = z.email();

/** Merge tags: up to 10 capital letters, digits or `_` (Mailchimp's rule for new fields). */
export const MERGE_TAG = /^[A-Z][A-Z0-9_]{0,9}$/;

const tagOf = (key: string) => key.toUpperCase();

/**
 * Builds the member from a mapped payload: `EMAIL` is the address (the snapshot's email when the
 * mapping has none), every other key a merge tag of the audience.
 */
export function draftMember(
  payload: Record<string, unknown>,
  fallbackEmail: string | null | undefined,
  catalog: ReadonlyMap<string, MergeField>,
  listId: string,
): DraftOutcome {
  const raw = payload[EMAIL_KEY] ?? payload.email ?? fallbackEmail;
  if (raw === undefined || raw === null || raw === '') {
    return { kind: 'skip', reason: 'the contact has no email address, which a Mailchimp member needs' };
  }
  const email = String(raw).trim();
  if (!Email.safeParse(email).success) {
    return {
      kind: 'error',
      error: new PermanentError(`EMAIL: ${JSON.stringify(email)} is not a valid email address`, {
        code: 'INVALID_EMAIL',
      }),
    };
  }

  const mergeFields: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(payload)) {
    if (key === EMAIL_KEY || key === 'email') continue;
    const field = catalog.get(tagOf(key));
    if (!field) {
      if (OPTIONAL_MERGE_FIELDS.has(tagOf(key))) continue;
      return {
        kind: 'error',
        error: new ConfigError(
          `merge field ${tagOf(key)} does not exist in audience ${listId}: create it in Mailchimp, set createMissingMergeFields: true, or remove it from the mapping`,
          { code: 'UNKNOWN_MERGE_FIELD' },
        ),
      };
    }
    const formatted = formatMergeValue(field, value);
    if (formatted.ok) mergeFields[field.tag] = formatted.value;
    else problems.push(`${field.tag} (${field.type}): ${formatted.problem}`);
  }
  if (problems.length > 0) {
    return {
      kind: 'error',
      error: new PermanentError(`merge fields do not fit the audience's types: ${problems.join('; ')}`, {
        code: 'INVALID_MERGE_FIELD',
      }),
    };
  }
  return { kind: 'draft', draft: { email, hash: subscriberHash(email), mergeFields } };
}

/** Payload keys the audience has no merge field for, with a value to guess the type from. */
export function missingMergeTags(
  payloads: Iterable<Record<string, unknown>>,
  catalog: ReadonlyMap<string, MergeField>,
): Map<string, unknown> {
  const missing = new Map<string, unknown>();
  for (const payload of payloads) {
    for (const [key, value] of Object.entries(payload)) {
      if (key === EMAIL_KEY || key === 'email' || catalog.has(tagOf(key))) continue;
      if (!missing.has(tagOf(key)) || (missing.get(tagOf(key)) ?? null) === null)
        missing.set(tagOf(key), value);
    }
  }
  return missing;
}

/** The merge field type a created field gets, from a value the mapping produces. */
export function inferMergeFieldType(sample: unknown): MergeFieldType {
  if (typeof sample === 'number') return 'number';
  if (sample !== null && typeof sample === 'object' && 'addr1' in sample) return 'address';
  if (typeof sample === 'string' && /^\d{4}-\d{2}-\d{2}(T|$)/.test(sample) && dateParts(sample))
    return 'date';
  if (typeof sample === 'string' && /^https?:\/\//i.test(sample)) return 'url';
  return 'text';
}
