import { sameText } from '../same-text.js';
import type { PushContext } from './push-context.js';
import type { MemberEventsAnswer, MemberNotesAnswer } from './responses.js';

/**
 * Finding, before adding it again, a note or event an earlier attempt of the same activity may
 * have added (`PushRecord.retried`): Mailchimp has no idempotency key for either, so after a lost
 * answer only a read can tell. Both reads are pages of 1,000 (Mailchimp's most), at most three
 * per activity, stopping at the first match; past that the activity is added again (a member with
 * thousands of notes or events since: see the two plans below).
 *
 * - An event carries `properties.crm_activity_id` (event-name.ts): its name and that id identify
 *   it exactly. The order of GET …/events is not documented (PROVIDERS.md has it unverified), so
 *   the first page is read, then the last, then the second: a member with up to 3,000 events is
 *   read whole, and beyond that both ends are, where a just-added event sits either way.
 * - A note has nothing but its text. GET …/notes sorts by `created_at`, newest first, so the read
 *   stops at the first note created before `since` (older notes cannot be this activity's).
 */
export type ActivityTarget =
  | {
      kind: 'note';
      text: string;
      /** Epoch ms; a note created before it is not this activity's (see `noteWindowStart`). */
      since: number;
    }
  | { kind: 'event'; name: string; activityId: string };

export type LookupAnswer = MemberNotesAnswer | MemberEventsAnswer;

/** What an earlier attempt left: the note (its id is the activity's link) or the event. */
export type FoundActivity = { kind: 'note'; id: string } | { kind: 'event' };

export const LOOKUP_PAGE = 1000;
export const LOOKUP_PAGES = 3;

/**
 * How far before the CRM event a note counts as possibly this activity's. Every attempt was sent
 * after the event (`occurredAt`, the CRM's clock); the margin covers the CRM's clock running ahead
 * of Mailchimp's. Wider, it would also take an identical note of another activity of this contact
 * from before the event for this one's; narrower, a skewed clock could hide the one to find.
 */
export const NOTE_CLOCK_MARGIN_MS = 15 * 60_000;

export const noteWindowStart = (eventOccurredAt: string) =>
  Date.parse(eventOccurredAt) - NOTE_CLOCK_MARGIN_MS;

/** The collection's path below /3.0, as a batch operation names it. */
export const lookupPath = (listId: string, ref: string, target: ActivityTarget) =>
  `/lists/${listId}/members/${ref}/${target.kind === 'note' ? 'notes' : 'events'}`;

/** The query of the page at `offset`, in the API's names (the SDK and batch `params` take them). */
export function lookupQuery(target: ActivityTarget, offset: number): Record<string, string | number> {
  return target.kind === 'note'
    ? { sort_field: 'created_at', sort_dir: 'DESC', count: LOOKUP_PAGE, offset }
    : { count: LOOKUP_PAGE, offset };
}

/**
 * Looks through the member's notes or events for the activity; `first` is the first page when
 * it was already read (in a batch run). `claimed` holds the note ids this push already took for
 * other activities, so two identical notes of one contact do not both take one note.
 */
export async function findActivity(
  ctx: PushContext,
  ref: string,
  target: ActivityTarget,
  first?: LookupAnswer,
): Promise<FoundActivity | null> {
  const offsets: number[] = [];
  let page = first;
  let offset: number | null = 0;
  while (offset !== null) {
    page ??=
      target.kind === 'note'
        ? await ctx.api.memberNotes(ref, lookupQuery(target, offset))
        : await ctx.api.memberEvents(ref, lookupQuery(target, offset));
    offsets.push(offset);
    const found = matchIn(target, page, ctx);
    if (found) return found;
    offset = nextOffset(target, offsets, page);
    if (offset === null && offsets.length >= LOOKUP_PAGES && mayHoldMore(target, offsets, page))
      ctx.logger.warn(
        { member: ref, kind: target.kind, pagesRead: offsets.length, total: page.total_items },
        `a retried ${target.kind} was not found in the pages a look reads (the member has more ${target.kind}s): it is added, and may appear twice in Mailchimp`,
      );
    page = undefined;
  }
  return null;
}

/** Whether pages the bounds left unread could hold the activity. */
function mayHoldMore(target: ActivityTarget, offsets: readonly number[], page: LookupAnswer): boolean {
  const total = page.total_items;
  if (target.kind === 'event')
    return total === undefined ? eventsOf(page).length === LOOKUP_PAGE : total > offsets.length * LOOKUP_PAGE;
  const notes = notesOf(page);
  const oldest = notes[notes.length - 1];
  const more =
    total === undefined ? notes.length === LOOKUP_PAGE : (offsets.at(-1) ?? 0) + notes.length < total;
  return more && !(oldest && Date.parse(oldest.created_at) < target.since);
}

// Each page was validated as the kind its target reads (the reads' schemas), so these only pick.
const notesOf = (page: LookupAnswer) => (page as Partial<MemberNotesAnswer>).notes ?? [];
const eventsOf = (page: LookupAnswer) => (page as Partial<MemberEventsAnswer>).events ?? [];

function matchIn(target: ActivityTarget, page: LookupAnswer, ctx: PushContext): FoundActivity | null {
  if (target.kind === 'event') {
    const hit = eventsOf(page).some(
      (e) => e.name === target.name && String(e.properties?.crm_activity_id ?? '') === target.activityId,
    );
    return hit ? { kind: 'event' } : null;
  }
  const notes = notesOf(page);
  ctx.claimedNotes ??= new Set();
  const claimed = ctx.claimedNotes;
  // An unreadable created_at does not rule a note out: better taken than added a second time.
  const note = notes.find(
    (n) => sameText(target.text, n.note) && !claimed.has(n.id) && !(Date.parse(n.created_at) < target.since),
  );
  if (!note) return null;
  claimed.add(note.id);
  return { kind: 'note', id: note.id };
}

/** The next page to read after `offsets`, or null when the look is over (`LOOKUP_PAGES` at most). */
function nextOffset(target: ActivityTarget, offsets: readonly number[], page: LookupAnswer): number | null {
  if (offsets.length >= LOOKUP_PAGES) return null;
  const items = target.kind === 'note' ? notesOf(page) : eventsOf(page);
  const total = page.total_items;
  const last = offsets[offsets.length - 1] ?? 0;
  // Without total_items, only a full page says there may be more.
  const more = total === undefined ? items.length === LOOKUP_PAGE : last + items.length < total;
  if (target.kind === 'note') {
    if (!more || items.length === 0) return null;
    const oldest = notesOf(page)[items.length - 1];
    return oldest && Date.parse(oldest.created_at) < target.since ? null : last + LOOKUP_PAGE;
  }
  if (total === undefined) return more ? last + LOOKUP_PAGE : null;
  const plan = [0, ...(total > LOOKUP_PAGE ? [total - LOOKUP_PAGE] : [])];
  if (total > 2 * LOOKUP_PAGE) plan.push(LOOKUP_PAGE);
  return plan[offsets.length] ?? null;
}
