import { type EngagementTarget, isSameEngagement, matchProperties } from './engagement-match.js';
import { associatedIds, READ_BATCH, readEngagements } from './engagement-reads.js';
import type { HubSpotCaller } from './hubspot-api.js';

/**
 * Finding, before creating them again, the engagements earlier attempts of retried activities
 * may have created (`PushRecord.retried`; engagement-match.ts says what counts as one). HubSpot
 * has no idempotency key for creates, so after a lost answer only a read can tell. The reads go
 * per contact and engagement type, shared by all of that contact's retried activities of the
 * type in the push:
 *
 * 1. the ids of the contact's engagements of the type (v4 associations, 500 a page), at most
 *    `LIST_PAGES` pages: 2,000 engagements;
 * 2. their properties, 100 ids per batch read, highest id first, at most `READ_IDS` of them,
 *    stopping as soon as every activity of the group is found.
 *
 * HubSpot documents no order for the listing, nor that its ids grow over time; they appear to.
 * Where they do, the highest ids are the newest and a just-created engagement is in the first
 * read; where they do not, the order costs nothing. The bounds keep one contact's look within
 * 14 requests of the account's 80 per 10 s however many engagements it has: past them, in a
 * contact with over 1,000 engagements of one type, an engagement may go unseen and the activity
 * is created again, as it was before this look existed.
 */

/** Listing pages read per contact and type (500 ids each). */
export const LIST_PAGES = 4;
/** Engagements read per contact and type (10 batch reads). */
export const READ_IDS = 1000;

export interface EngagementLookup extends EngagementTarget {
  /** The HubSpot contact the engagement was created with. */
  contactId: string;
}

/** A contact's engagements of a type went past the bounds, and some lookups found nothing. */
export interface CutShortLook {
  contactId: string;
  objectType: EngagementTarget['objectType'];
  /** Engagements whose properties were read. */
  read: number;
  /** Lookups of the group left without a match. */
  unmatched: number;
}

/**
 * The id of the engagement each lookup's earlier attempt created, or null when none was found.
 * An engagement is given to one lookup at most: two identical activities of one contact in one
 * push are not both taken as one engagement. `onCutShort` hears of each group whose look stopped
 * at the bounds with lookups unmatched: their activities will be created, perhaps a second time.
 */
export async function findEarlierEngagements(
  api: HubSpotCaller,
  lookups: readonly EngagementLookup[],
  onCutShort: (look: CutShortLook) => void = () => {},
): Promise<(string | null)[]> {
  const found: (string | null)[] = lookups.map(() => null);
  const groups = new Map<string, number[]>();
  lookups.forEach((lookup, i) => {
    const key = `${lookup.contactId}:${lookup.objectType}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const members of groups.values()) {
    const { contactId, objectType } = lookups[members[0]!]!;
    const listed = await listIds(api, contactId, objectType);
    const ids = newestFirst(listed.ids).slice(0, READ_IDS);
    const taken = new Set<string>();
    let open = members;
    let read = 0;
    for (let start = 0; start < ids.length && open.length > 0; start += READ_BATCH) {
      read += Math.min(READ_BATCH, ids.length - start);
      const engagements = await readEngagements(
        api,
        objectType,
        ids.slice(start, start + READ_BATCH),
        matchProperties(objectType),
      );
      for (const i of open) {
        const hit = engagements.find((e) => !taken.has(e.id) && isSameEngagement(lookups[i]!, e));
        if (!hit) continue;
        taken.add(hit.id);
        found[i] = hit.id;
      }
      open = open.filter((i) => found[i] === null);
    }
    if (open.length > 0 && (!listed.complete || listed.ids.length > READ_IDS))
      onCutShort({ contactId, objectType, read, unmatched: open.length });
  }
  return found;
}

async function listIds(
  api: HubSpotCaller,
  contactId: string,
  objectType: EngagementTarget['objectType'],
): Promise<{ ids: string[]; complete: boolean }> {
  const ids = new Set<string>();
  let after: string | undefined;
  for (let page = 0; page < LIST_PAGES; page += 1) {
    const { ids: more, next } = await associatedIds(api, contactId, objectType, after);
    for (const id of more) ids.add(id);
    if (!next || more.length === 0) return { ids: [...ids], complete: true };
    after = next;
  }
  return { ids: [...ids], complete: false };
}

/** Ids are decimal strings: compared by length, then digit by digit, so none loses precision. */
function newestFirst(ids: string[]): string[] {
  return ids.sort((a, b) => b.length - a.length || (a < b ? 1 : a > b ? -1 : 0));
}
