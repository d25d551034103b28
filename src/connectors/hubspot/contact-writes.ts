import { type ConnectorError, PermanentError } from '../errors.js';
import { type Settled, sendIsolating } from './batch-isolation.js';
import { matchBatchAnswer, type ResultObject } from './batch-results.js';
import { errorBodyOf } from './hubspot-answer.js';
import type { HubSpotCaller } from './hubspot-api.js';
import { blameValidation, errorsOf, STALE_LINK, updateById } from './object-writes.js';
import { existingIdOf } from './validation-findings.js';

export interface ContactWrite {
  traceId: string;
  /** The HubSpot id from the link, when the contact was synced before. */
  id: string | null;
  /** Lower-cased; what an unlinked contact is upserted by. */
  email: string | null;
  properties: Record<string, string>;
}

export interface WrittenContact {
  id: string;
  created: boolean;
}

/**
 * Creates or updates contacts: linked ones by HubSpot id (`batch/update`), the others by email
 * (`batch/upsert` with `idProperty: email`), so a replay or a race never creates a duplicate. A
 * link whose record is gone at HubSpot falls back to the email. Inputs that share an id or an
 * email go in successive calls (HubSpot refuses duplicate ids within one batch).
 */
export async function writeContacts(
  api: HubSpotCaller,
  writes: ContactWrite[],
): Promise<Settled<WrittenContact>[]> {
  const out: Settled<WrittenContact>[] = writes.map(() => ({ error: new PermanentError('not written') }));
  const byEmail: number[] = [];

  const linked = writes.flatMap((w, i) => (w.id ? [i] : []));
  for (const round of rounds(linked, (i) => writes[i]?.id ?? '')) {
    const settled = await updateById(
      api,
      'contacts',
      round.map((i) => {
        const w = writes[i] as ContactWrite;
        return { traceId: w.traceId, id: w.id as string, properties: w.properties };
      }),
    );
    round.forEach((index, k) => {
      const result = settled[k] as Settled<ResultObject>;
      if ('error' in result && result.error.code === STALE_LINK && writes[index]?.email) byEmail.push(index);
      else out[index] = 'ok' in result ? { ok: { id: result.ok.id, created: false } } : result;
    });
  }

  for (const [index, w] of writes.entries()) {
    if (w.id) continue;
    if (w.email) byEmail.push(index);
    else
      out[index] = {
        error: new PermanentError(
          'HubSpot contact upsert: the contact has no email and no link to a HubSpot record; HubSpot matches contacts by email',
          { code: 'NO_EMAIL' },
        ),
      };
  }
  for (const round of rounds(byEmail, (i) => writes[i]?.email ?? '')) {
    const settled = await upsertByEmail(
      api,
      round.map((i) => writes[i] as ContactWrite),
    );
    round.forEach((index, k) => {
      out[index] = settled[k] as Settled<WrittenContact>;
    });
  }
  return out;
}

/** Splits indices into rounds in which no key repeats (first occurrences first). */
export function rounds(indices: number[], keyOf: (index: number) => string): number[][] {
  const out: number[][] = [];
  const seen = new Map<string, number>();
  for (const index of indices) {
    const key = keyOf(index);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const round = out[n] ?? [];
    round.push(index);
    out[n] = round;
  }
  return out;
}

/** `POST /crm/v3/objects/contacts/batch/upsert` by email, isolating bad inputs and conflicts. */
function upsertByEmail(api: HubSpotCaller, writes: ContactWrite[]): Promise<Settled<WrittenContact>[]> {
  const what = 'contacts batch upsert';
  return sendIsolating<ContactWrite, WrittenContact>(writes, {
    async send(batch) {
      const { data } = await api.call({ what }, (o) =>
        api.sdk.objects.upsertWithHttpInfo(
          'contacts',
          {
            inputs: batch.map((w) => ({
              id: w.email as string,
              idProperty: 'email',
              objectWriteTraceId: w.traceId,
              properties: w.properties,
            })),
          },
          o,
        ),
      );
      const matched = matchBatchAnswer(
        batch.map((w) => ({ traceId: w.traceId, matchKey: w.email ?? undefined })),
        { results: data.results, errors: errorsOf(data) },
        { what, matchProperty: 'email' },
      );
      // A multi-status answer can carry per-input conflicts: update those by the existing id.
      return Promise.all(
        matched.map(async (settled, k): Promise<Settled<WrittenContact>> => {
          if ('ok' in settled) return { ok: { id: settled.ok.id, created: settled.ok._new === true } };
          const existing =
            settled.error.code === 'CONFLICT' ? existingIdOf(errorBodyOf(settled.error)) : null;
          return existing ? updateExisting(api, batch[k] as ContactWrite, existing) : settled;
        }),
      );
    },
    async blame(error, batch) {
      if (error.code === 'CONFLICT') return blameConflict(api, error, batch);
      return blameValidation(error, batch);
    },
  });
}

/**
 * "Contact already exists. Existing ID: 123": HubSpot's search index lags its writes, so an
 * upsert can still meet the contact another write just created. The id does not say which input
 * it was: read the contact's email (one request) to find it, link it and update it.
 */
async function blameConflict(
  api: HubSpotCaller,
  error: ConnectorError,
  batch: ContactWrite[],
): Promise<Map<number, Settled<WrittenContact>> | null> {
  const existing = existingIdOf(errorBodyOf(error));
  if (!existing) return null;
  let index = batch.length === 1 ? 0 : -1;
  if (index < 0) {
    const { data } = await api.call({ what: 'contacts batch read' }, (o) =>
      api.sdk.objects.readWithHttpInfo(
        'contacts',
        { inputs: [{ id: existing }], properties: ['email'], propertiesWithHistory: [] },
        undefined,
        o,
      ),
    );
    const email = data.results[0]?.properties.email?.toLowerCase();
    index = email ? batch.findIndex((w) => w.email === email) : -1;
  }
  const write = batch[index];
  if (!write) return null;
  return new Map([[index, await updateExisting(api, write, existing)]]);
}

async function updateExisting(
  api: HubSpotCaller,
  write: ContactWrite,
  id: string,
): Promise<Settled<WrittenContact>> {
  const [settled] = await updateById(api, 'contacts', [
    { traceId: write.traceId, id, properties: write.properties },
  ]);
  if (!settled) return { error: new PermanentError('HubSpot contacts batch update: no result') };
  return 'ok' in settled ? { ok: { id: settled.ok.id, created: false } } : settled;
}
