import { batchSubscribe } from './batch-subscribe.js';
import { checkNewMergeField, type SandboxMergeField } from './merge-validation.js';
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

function segmentsView({ audience, query }: RouteContext) {
  const type = query.get('type');
  const segments = [...audience.segments.values()]
    .filter(() => !type || type === 'static')
    .map((s) => ({
      id: s.id,
      name: s.name,
      type: 'static',
      member_count: s.members.size,
      list_id: audience.id,
    }));
  return { status: 200, body: { segments, total_items: segments.length, list_id: audience.id } };
}

function createSegment({ audience, body }: RouteContext) {
  const name = str(body.name);
  if (!name || name.length > 100)
    throw invalid('The resource submitted could not be validated.', [
      { field: 'name', message: 'Required, ≤ 100 characters' },
    ]);
  if ([...audience.segments.values()].some((s) => s.name.toLowerCase() === name.toLowerCase())) {
    throw invalid(`A segment named "${name}" already exists.`);
  }
  const id = 1000 + audience.segments.size;
  audience.segments.set(String(id), { id, name, members: new Set() });
  return { status: 200, body: { id, name, type: 'static', member_count: 0, list_id: audience.id } };
}

/** POST /lists/{id}/segments/{segment}: add and remove up to 500 members by email. */
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
  const added: unknown[] = [];
  const removed: unknown[] = [];
  const notMembers: string[] = [];
  for (const email of toAdd) {
    const member = audience.find(email);
    if (!member || member.status === 'archived') notMembers.push(email);
    else if (!segment.members.has(member.id)) {
      segment.members.add(member.id);
      added.push(audience.view(member));
    }
  }
  for (const email of toRemove) {
    const member = audience.find(email);
    if (!member || member.status === 'archived') notMembers.push(email);
    else if (segment.members.delete(member.id)) removed.push(audience.view(member));
  }
  const errors =
    notMembers.length > 0
      ? [{ email_addresses: notMembers, error: 'Email addresses are not a list member' }]
      : [];
  return {
    status: 200,
    body: {
      members_added: added,
      members_removed: removed,
      errors,
      total_added: added.length,
      total_removed: removed.length,
      error_count: notMembers.length,
    },
  };
}

export const listRoutes: Route[] = [
  { method: 'GET', pattern: /^\/lists\/([^/]+)\/?$/, handle: getList },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/?$/, handle: batchSubscribe },
  {
    method: 'GET',
    pattern: /^\/lists\/([^/]+)\/merge-fields\/?$/,
    handle: ({ audience }) => {
      const merge_fields = [...audience.mergeFields.values()].map((f) => ({ ...f, list_id: audience.id }));
      return { status: 200, body: { merge_fields, total_items: merge_fields.length, list_id: audience.id } };
    },
  },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/merge-fields\/?$/, handle: addMergeField },
  { method: 'GET', pattern: /^\/lists\/([^/]+)\/segments\/?$/, handle: segmentsView },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/segments\/?$/, handle: createSegment },
  { method: 'POST', pattern: /^\/lists\/([^/]+)\/segments\/([^/]+)\/?$/, handle: segmentMembers },
  {
    method: 'GET',
    pattern: /^\/lists\/([^/]+)\/segments\/([^/]+)\/members\/?$/,
    handle: ({ audience, params }) => {
      const segment = audience.segments.get(params[0] as string);
      if (!segment) throw notFound();
      const members = [...segment.members].flatMap((hash) => {
        const m = audience.members.get(hash);
        return m ? [audience.view(m)] : [];
      });
      return { status: 200, body: { members, total_items: members.length } };
    },
  },
];
