import { z } from 'zod';
import type { ReadEngagement } from './engagement-match.js';
import { parseAnswer } from './hubspot-answer.js';
import type { HubSpotCaller } from './hubspot-api.js';
import type { ObjectType } from './object-writes.js';

/**
 * The two reads that find a contact's engagements without the search API, whose index lags
 * writes by seconds and which has its own budget of about 5 requests per second (PROVIDERS.md):
 * association reads and batch reads see HubSpot's store at once, on the ordinary budget.
 */

/** The v4 listing's most per page ("Limit 500 per call", associations-v4.json). */
export const ASSOCIATION_PAGE = 500;
/** Batch read's most inputs per call, as for every v3 batch endpoint (PROVIDERS.md). */
export const READ_BATCH = 100;

// HubSpot's OpenAPI document types toObjectId as a string; the API sends a number. Both are read.
const AssociationPage = z.object({
  results: z.array(z.looseObject({ toObjectId: z.union([z.string(), z.number()]).transform(String) })),
  paging: z.looseObject({ next: z.looseObject({ after: z.string() }).optional() }).optional(),
});

// The SDK turns createdAt into a Date; a string is what it would pass through if it did not.
const ReadAnswer = z.object({
  results: z.array(
    z.looseObject({
      id: z.string(),
      createdAt: z.union([z.date(), z.string()]).optional(),
      properties: z.record(z.string(), z.string().nullable()),
    }),
  ),
});

/**
 * One page of the ids of a contact's engagements of a type
 * (https://developers.hubspot.com/docs/api/crm/associations/v4, GET …/associations/{toObjectType}).
 * `next` is the cursor of the page after, null on the last.
 */
export async function associatedIds(
  api: HubSpotCaller,
  contactId: string,
  objectType: ObjectType,
  after: string | undefined,
): Promise<{ ids: string[]; next: string | null }> {
  const what = `contact ${objectType} associations read`;
  const { data } = await api.call({ what }, (o) =>
    api.sdk.associationsBasic.getPageWithHttpInfo(
      'contacts',
      contactId,
      objectType,
      after,
      ASSOCIATION_PAGE,
      o,
    ),
  );
  const page = parseAnswer(AssociationPage, data, what);
  return { ids: page.results.map((r) => r.toObjectId), next: page.paging?.next?.after ?? null };
}

/**
 * Up to `READ_BATCH` engagements by id with the given properties
 * (https://developers.hubspot.com/docs/api/crm/engagements, POST …/batch/read). Ids HubSpot no
 * longer has (archived since) are left out of its 207 answer.
 */
export async function readEngagements(
  api: HubSpotCaller,
  objectType: ObjectType,
  ids: readonly string[],
  properties: string[],
): Promise<ReadEngagement[]> {
  const what = `${objectType} batch read`;
  const { data } = await api.call({ what }, (o) =>
    api.sdk.objects.readWithHttpInfo(
      objectType,
      { inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: [] },
      undefined,
      o,
    ),
  );
  return parseAnswer(ReadAnswer, data, what).results.map((r) => ({
    id: r.id,
    createdAt: r.createdAt === undefined ? Number.NaN : new Date(r.createdAt).getTime(),
    properties: r.properties,
  }));
}
