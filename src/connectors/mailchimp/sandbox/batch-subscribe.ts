import { hashOf, type SandboxStatus, WRITABLE_STATUSES } from './audience.js';
import { mergeFieldIssues } from './merge-validation.js';
import { invalid, SandboxProblem } from './problem.js';
import { obj, type RouteContext, str } from './route-types.js';

interface BatchError {
  email_address: string;
  error: string;
  error_code: string;
  field?: string;
  field_message?: string;
}

/**
 * POST /lists/{id}: batch subscribe. As documented, `update_existing: true` changes existing
 * members' status to the one sent (within compliance: no subscribing an unsubscribed or cleaned
 * address); without it an existing member is an ERROR_CONTACT_EXISTS error. Failures are per
 * member, in `errors[]`; the call itself succeeds.
 */
export function batchSubscribe({ audience, body, faults }: RouteContext) {
  const members = body.members;
  if (!Array.isArray(members))
    throw invalid('The resource submitted could not be validated.', [
      { field: 'members', message: 'Required' },
    ]);
  if (members.length > 500) throw invalid('You may only add or update up to 500 members per request.');
  const updateExisting = body.update_existing === true;
  const syncTags = body.sync_tags === true;

  const created: unknown[] = [];
  const updated: unknown[] = [];
  const errors: BatchError[] = [];
  const seen = new Set<string>();

  for (const raw of members) {
    const input = obj(raw);
    const email = str(input.email_address) ?? '';
    const fail = (error: string, extra: Partial<BatchError> = {}) =>
      errors.push({ email_address: email, error, error_code: 'ERROR_GENERIC', ...extra });
    const status = input.status as SandboxStatus;
    if (!WRITABLE_STATUSES.includes(status as (typeof WRITABLE_STATUSES)[number])) {
      fail(`status must be one of ${WRITABLE_STATUSES.join(', ')}`);
      continue;
    }
    const hash = hashOf(email);
    if (seen.has(hash)) {
      fail(`${email} appears more than once in this batch`);
      continue;
    }
    seen.add(hash);
    const injected = faults.emailError(email);
    if (injected) {
      errors.push({ email_address: email, ...injected });
      continue;
    }
    const mergeFields = obj(input.merge_fields);
    const tags = Array.isArray(input.tags)
      ? input.tags.filter((t): t is string => typeof t === 'string')
      : [];
    const existing = audience.find(hash);
    try {
      if (existing && existing.status !== 'archived') {
        if (!updateExisting) {
          errors.push({
            email_address: email,
            error: `${email} is already a list member, do you want to update? please provide update_existing:true in the request body`,
            error_code: 'ERROR_CONTACT_EXISTS',
          });
          continue;
        }
        const issues = mergeFieldIssues(audience.mergeFields, mergeFields, false);
        if (issues[0]) {
          fail('Your merge fields were invalid.', {
            field: issues[0].field,
            field_message: issues[0].message,
          });
          continue;
        }
        audience.changeStatus(existing, status);
        audience.updateFields(existing, mergeFields);
        audience.setTags(
          existing,
          tags.map((name) => ({ name, status: 'active' })),
          syncTags,
        );
        updated.push(audience.view(existing));
      } else {
        const issues = mergeFieldIssues(audience.mergeFields, mergeFields, true);
        if (issues[0]) {
          fail('Your merge fields were invalid.', {
            field: issues[0].field,
            field_message: issues[0].message,
          });
          continue;
        }
        const member = audience.create(email, status, mergeFields);
        audience.setTags(
          member,
          tags.map((name) => ({ name, status: 'active' })),
        );
        created.push(audience.view(member));
      }
    } catch (problem) {
      if (!(problem instanceof SandboxProblem)) throw problem;
      fail(problem.detail);
    }
  }
  return {
    status: 200,
    body: {
      new_members: created,
      updated_members: updated,
      errors,
      total_created: created.length,
      total_updated: updated.length,
      error_count: errors.length,
      _links: [],
    },
  };
}
