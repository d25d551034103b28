import { hashOf, type SandboxStatus, WRITABLE_STATUSES } from './audience.js';
import { assertMergeFields } from './merge-validation.js';
import { invalid, notFound } from './problem.js';
import { obj, onlyFields, type Route, type RouteContext, str } from './route-types.js';

const M = '/lists/([^/]+)/members/([^/]+)';

function statusOf(value: unknown, field: string): SandboxStatus | undefined {
  if (value === undefined) return undefined;
  if (!WRITABLE_STATUSES.includes(value as (typeof WRITABLE_STATUSES)[number])) {
    throw invalid('The resource submitted could not be validated.', [
      { field, message: `Must be one of ${WRITABLE_STATUSES.join(', ')}` },
    ]);
  }
  return value as SandboxStatus;
}

/** PUT …/members/{hash}: add or update; `status_if_new` only counts for a new member. */
function putMember({ audience, params, body, faults }: RouteContext) {
  const email = str(body.email_address);
  if (!email)
    throw invalid('The resource submitted could not be validated.', [
      { field: 'email_address', message: 'This value should not be blank.' },
    ]);
  const ref = params[0] as string;
  if (/^[0-9a-f]{32}$/.test(ref) && hashOf(email) !== ref) {
    throw invalid('The email address does not match the subscriber hash in the URL.');
  }
  faults.checkEmail(email);
  const status = statusOf(body.status, 'status');
  const ifNew = statusOf(body.status_if_new, 'status_if_new');
  const mergeFields = obj(body.merge_fields);
  const current = audience.find(ref);
  if (current && current.status !== 'archived') {
    audience.updateFields(current, mergeFields);
    if (status) audience.changeStatus(current, status);
    return { status: 200, body: audience.view(current) };
  }
  // An archived member exists: `status_if_new` does not bring it back (it stays archived, its
  // fields updated); only an explicit `status` does, under the same compliance rules.
  if (current && !status) {
    audience.updateFields(current, mergeFields);
    return { status: 200, body: audience.view(current) };
  }
  const initial = status ?? ifNew;
  if (!initial) {
    throw invalid('The resource submitted could not be validated.', [
      { field: 'status_if_new', message: 'Required when the member is new.' },
    ]);
  }
  return { status: 200, body: audience.view(audience.create(email, initial, mergeFields)) };
}

/** PATCH …/members/{ref}: updates, never creates. An archived member stays archived unless a
 * `status` is sent, which restores it (Mailchimp keeps an unsubscribe through an archive). */
function patchMember({ audience, params, body, faults }: RouteContext) {
  const member = audience.find(params[0] as string);
  if (!member) throw notFound();
  const status = statusOf(body.status, 'status');
  // A refused PATCH leaves the member as it was: every part is checked before anything changes.
  assertMergeFields(audience.mergeFields, obj(body.merge_fields), false);
  const email = str(body.email_address);
  if (email) {
    faults.checkEmail(email);
    audience.assertEmailChange(member, email);
  }
  if (status) audience.assertStatusChange(member, status);
  if (member.status === 'archived' && status) audience.restore(member, status);
  if (email) audience.changeEmail(member, email);
  audience.updateFields(member, obj(body.merge_fields));
  if (status && member.status !== 'archived') audience.changeStatus(member, status);
  return { status: 200, body: audience.view(member) };
}

function listMembers({ audience, query }: RouteContext) {
  const count = Math.min(1000, Number(query.get('count') ?? 10));
  const offset = Number(query.get('offset') ?? 0);
  const since = query.get('since_last_changed');
  const status = query.get('status');
  const all = [...audience.members.values()].filter(
    (m) => (!since || m.last_changed > new Date(since).toISOString()) && (!status || m.status === status),
  );
  return {
    status: 200,
    body: {
      members: all.slice(offset, offset + count).map((m) => audience.view(m)),
      total_items: all.length,
      list_id: audience.id,
    },
  };
}

function memberTags({ audience, params, body }: RouteContext) {
  const tags = body.tags;
  if (!Array.isArray(tags))
    throw invalid('The resource submitted could not be validated.', [
      { field: 'tags', message: 'Must be an array' },
    ]);
  const parsed = tags.map((t) => obj(t));
  for (const t of parsed) {
    const name = str(t.name);
    if (!name || name.length > 100 || (t.status !== 'active' && t.status !== 'inactive')) {
      throw invalid('The resource submitted could not be validated.', [
        { field: 'tags', message: 'Each tag needs a name (≤ 100 characters) and status active or inactive' },
      ]);
    }
  }
  audience.setTags(audience.live(params[0] as string), parsed as { name: string; status: string }[]);
  return { status: 204 };
}

/** GET …/members/{ref}: archived members too (only writes refuse them), `fields` honoured. */
const view = ({ audience, params, query }: RouteContext) => {
  const member = audience.find(params[0] as string);
  if (!member) throw notFound();
  return { status: 200, body: onlyFields(audience.view(member), query) };
};

export const memberRoutes: Route[] = [
  { method: 'GET', pattern: /^\/lists\/([^/]+)\/members\/?$/, handle: listMembers },
  { method: 'GET', pattern: new RegExp(`^${M}$`), handle: view },
  { method: 'PUT', pattern: new RegExp(`^${M}$`), handle: putMember },
  { method: 'PATCH', pattern: new RegExp(`^${M}$`), handle: patchMember },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${M}$`),
    handle: (rc) => {
      rc.audience.archive(rc.params[0] as string);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${M}/actions/delete-permanent$`),
    handle: (rc) => {
      rc.audience.deletePermanently(rc.params[0] as string);
      return { status: 204 };
    },
  },
  { method: 'POST', pattern: new RegExp(`^${M}/tags$`), handle: memberTags },
  {
    method: 'GET',
    pattern: new RegExp(`^${M}/tags$`),
    handle: (rc) => {
      const tags = [...rc.audience.live(rc.params[0] as string).tags.values()];
      return { status: 200, body: { tags, total_items: tags.length } };
    },
  },
];
