import { z } from 'zod';
import type { SandboxMember } from './audience.js';
import { pageOf } from './paging.js';
import { invalid, notFound } from './problem.js';
import { obj, type Route, type RouteContext, str } from './route-types.js';

/**
 * A member's notes and events: POST adds one (neither has an idempotency key, as in Mailchimp),
 * GET reads them a page at a time (`count`, `offset`, `total_items`). Notes sort as the API
 * documents (`sort_field` created_at | updated_at | note_id, `sort_dir` ASC | DESC; ids ascending
 * when none is given). The order of events is not documented (PROVIDERS.md); the sandbox answers
 * them newest first, and a client must not depend on it.
 */
const M = '/lists/([^/]+)/members/([^/]+)';

const invalidResource = (field: string, message: string) =>
  invalid('The resource submitted could not be validated.', [{ field, message }]);

function member({ audience, params }: RouteContext): SandboxMember {
  const found = audience.find(params[0] as string);
  if (!found) throw notFound();
  return found;
}

function noteView(rc: RouteContext, m: SandboxMember, note: SandboxMember['notes'][number]) {
  return {
    ...note,
    updated_at: note.created_at,
    created_by: 'API',
    list_id: rc.audience.id,
    email_id: m.id,
    contact_id: m.contact_id,
  };
}

function addNote(rc: RouteContext) {
  const note = str(rc.body.note);
  if (!note || note.length > 1000) throw invalidResource('note', 'A note is 1 to 1,000 characters');
  const m = rc.audience.live(rc.params[0] as string);
  return { status: 200, body: noteView(rc, m, rc.audience.addNote(m, note)) };
}

const NOTE_SORTS = { created_at: 'created_at', updated_at: 'created_at', note_id: 'id' } as const;

function listNotes(rc: RouteContext) {
  const m = member(rc);
  const field = rc.query.get('sort_field');
  const dir = rc.query.get('sort_dir') ?? 'ASC';
  if (field !== null && !(field in NOTE_SORTS))
    throw invalidResource('sort_field', 'Must be one of created_at, updated_at, note_id');
  if (dir !== 'ASC' && dir !== 'DESC') throw invalidResource('sort_dir', 'Must be one of ASC, DESC');
  const key = field === null ? 'id' : NOTE_SORTS[field as keyof typeof NOTE_SORTS];
  const sign = dir === 'DESC' ? -1 : 1;
  // Ties (one millisecond) go by id, so the order is the order of adding.
  const sorted = [...m.notes].sort(
    (a, b) => sign * (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.id - b.id),
  );
  const { items, total_items } = pageOf(rc.query, sorted);
  return {
    status: 200,
    body: { notes: items.map((n) => noteView(rc, m, n)), list_id: rc.audience.id, total_items },
  };
}

const IsoDateTime = z.iso.datetime({ offset: true });

function addEvent({ audience, params, body }: RouteContext) {
  const name = str(body.name);
  if (!name || !/^[A-Za-z0-9_-]{2,30}$/.test(name))
    throw invalidResource('name', 'Event names are 2 to 30 letters, digits, underscores or dashes');
  const properties = obj(body.properties);
  if (Object.values(properties).some((v) => typeof v !== 'string'))
    throw invalidResource('properties', 'Property values must be strings');
  // "The date and time the event occurred in ISO 8601 format"; a client sending anything else
  // (an epoch number, a date alone) is told so here, as Mailchimp tells it.
  const occurredAt = body.occurred_at;
  if (occurredAt !== undefined && !IsoDateTime.safeParse(occurredAt).success)
    throw invalidResource('occurred_at', 'Must be an ISO 8601 date and time, e.g. 2026-11-22T09:30:00Z');
  audience.live(params[0] as string).events.push({
    name,
    properties: properties as Record<string, string>,
    occurred_at: str(occurredAt) ?? new Date().toISOString(),
    is_syncing: body.is_syncing === true,
  });
  return { status: 204 };
}

function listEvents(rc: RouteContext) {
  const newestFirst = [...member(rc).events].reverse();
  const { items, total_items } = pageOf(rc.query, newestFirst);
  return {
    status: 200,
    body: {
      events: items.map(({ name, properties, occurred_at }) => ({ name, properties, occurred_at })),
      total_items,
    },
  };
}

export const activityRoutes: Route[] = [
  { method: 'POST', pattern: new RegExp(`^${M}/notes$`), handle: addNote },
  { method: 'GET', pattern: new RegExp(`^${M}/notes$`), handle: listNotes },
  { method: 'POST', pattern: new RegExp(`^${M}/events$`), handle: addEvent },
  { method: 'GET', pattern: new RegExp(`^${M}/events$`), handle: listEvents },
];
