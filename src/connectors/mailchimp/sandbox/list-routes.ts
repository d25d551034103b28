import { batchSubscribe } from './batch-subscribe.js';
import { checkNewMergeField, type SandboxMergeField } from './merge-validation.js';
import { pageOf } from './paging.js';
import { invalid, notFound } from './problem.js';
import { obj, type Route, type RouteContext, str } from './route-types.js';

function getList({ audience }: RouteContext) {
  const live = [...audience.members.values()].filter((m) => m.status !== 'archived');
  return {
    status: 200,
    body: { id: audience.id, name: audience.name, stats: { member_count: live.length } },
  };
}

function addMergeField({ audience, body }: RouteContext) {
  checkNewMergeField(audience.mergeFields, body);
  const type = body.type as SandboxMergeField['type'];
  const options = { ...obj(body.options) } as SandboxMergeField['options'];
  if (type === 'date') options.date_format ??= 'MM/DD/YYYY';
  if (type === 'birthday') options.date_format ??= 'MM/DD';
  const field = audience.addMergeField({
    tag: body.tag as string,
    name: str(body.name) ?? (body.tag as string),
    type,
    required: body.required === true,
    options,
  });
  return { status: 200, body: { ...field, list_id: audience.id } };
}

/** GET …/segments: the sandbox has static segments only, and every tag is one. */
function segmentsView({ audience, query }: RouteContext) {
  const type = query.get('type');
  const all = type && type !== 'static' ? [] : [...audience.segments.values()];
  const { items, total_items } = pageOf(query, all);
  const segments = items.map((s) => ({
    id: s.id,
    name: s.name,
    type: 'static',
    member_count: audience.segmentMembers(s).length,
    list_id: audience.id,
  }));
  return { status: 200, body: { segments, total_items, list_id: audience.id } };
}

function createSegment({ audience, body }: RouteContext) {
  const name = str(body.name);
  if (!name || name.length > 100)
    throw invalid('The resource submitted could not be validated.', [
      { field: 'name', message: 'Required, ≤ 100 characters' },
    ]);
  const { id } = audience.createSegment(name);
  const initial = Array.isArray(body.static_segment) ? body.static_segment : [];
  for (const email of initial) {
    const member = typeof email === 'string' ? audience.find(email) : undefined;
    if (member && member.status !== 'archived') audience.setTags(member, [{ name, status: 'active' }]);
  }
  const member_count = audience.segmentMembers({ id, name }).length;
  return { status: 200, body: { id, name, type: 'static', member_count, list_id: audience.id } };
}

/**
 * POST /lists/{id}/segments/{segment}: add and remove up to 500 members by email. Addresses not
 * in the audience are ignored without an error, as Mailchimp documents ("Any emails provided that
 * are not present on the list will be ignored"), and so are members already in (or already out
 * of) the segment: only the changes are reported.
 */
function segmentMembers({ audience, params, body }: RouteContext) {
  const segment = audience.segments.get(params[0] as string);
  if (!segment) throw notFound();
  const emails = (key: string) =>
    Array.isArray(body[key])
      ? (body[key] as unknown[]).filter((e): e is string => typeof e === 'string')
      : [];
  const toAdd = emails('members_to_add');
  const toRemove = emails('members_to_remove');
  if (toAdd.length + toRemove.length > 500)
    throw invalid('You may only add or remove up to 500 members per request.');
  const key = segment.name.toLowerCase();
  const inAudience = (email: string) => {
    const member = audience.find(email);
    return member && member.status !== 'archived' ? member : undefined;
  };
  const added: unknown[] = [];
  const removed: unknown[] = [];
  for (const member of toAdd.map(inAudience)) {
    if (!member || member.tags.has(key)) continue;
    audience.setTags(member, [{ name: segment.name, status: 'active' }]);
    added.push(audience.view(member));
  }
  for (const member of toRemove.map(inAudience)) {
    if (!member?.tags.has(key)) continue;
    audience.setTags(member, [{ name: segment.name, status: 'inactive' }]);
    removed.push(audience.view(member));
  }
  return {
    status: 200,
    body: {
      members_added: added,
      members_removed: removed,
      errors: [],
      total_added: added.length,
      total_removed: removed.length,
      error_count: 0,
    },
  };
}

export const listRoutes: Route[] = [
  { method: 'GET', pattern: /^\/lists\/([^/]+)\/?$/, handle: getList },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/?$/, handle: batchSubscribe },
  {
    method: 'GET',
    pattern: /^\/lists\/([^/]+)\/merge-fields\/?$/,
    handle: ({ audience, query }) => {
      const { items, total_items } = pageOf(query, [...audience.mergeFields.values()]);
      const merge_fields = items.map((f) => ({ ...f, list_id: audience.id }));
      return { status: 200, body: { merge_fields, total_items, list_id: audience.id } };
    },
  },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/merge-fields\/?$/, handle: addMergeField },
  { method: 'GET', pattern: /^\/lists\/([^/]+)\/segments\/?$/, handle: segmentsView },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/segments\/?$/, handle: createSegment },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/segments\/([^/]+)\/?$/, handle: segmentMembers },
  {
    method: 'GET',
    pattern: /^\/lists\/([^/]+)\/segments\/([^/]+)\/members\/?$/,
    handle: ({ audience, params, query }) => {
      const segment = audience.segments.get(params[0] as string);
      if (!segment) throw notFound();
      const { items, total_items } = pageOf(query, audience.segmentMembers(segment));
      return { status: 200, body: { members: items.map((m) => audience.view(m)), total_items } };
    },
  },
];
