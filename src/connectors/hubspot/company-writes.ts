import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import type { Settled } from './batch-isolation.js';
import { rounds } from './contact-writes.js';
import type { HubSpotCaller } from './hubspot-api.js';
import { createWithTraceIds, STALE_LINK, updateById } from './object-writes.js';

export interface CompanyWrite {
  traceId: string;
  id: string | null;
  /** Normalised (`example.com`); what an unlinked company is matched by. */
  domain: string | null;
  properties: Record<string, string>;
}

export interface WrittenCompany {
  id: string;
  created: boolean;
}

/** HubSpot's search takes at most 100 values in one IN filter and 200 results per page. */
const SEARCH_VALUES = 100;
const SEARCH_PAGE = 200;

/**
 * Creates or updates companies: linked ones by id; the others matched by domain. `domain` is not
 * a unique property in HubSpot, so batch upsert cannot match by it ("Unable to perform
 * update/upsert by non-unique 0-2 property"): the domains are looked up with the search API
 * (its own, lower budget: `kind: 'search'`), found ones updated, the rest created. When several
 * companies share a domain at HubSpot, the oldest (lowest id) is the match.
 */
export async function writeCompanies(
  api: HubSpotCaller,
  writes: CompanyWrite[],
): Promise<Settled<WrittenCompany>[]> {
  const out: (Settled<WrittenCompany> | undefined)[] = writes.map(() => undefined);
  const unlinked: number[] = [];
  const toWritten = (s: Settled<{ id: string }>, created: boolean): Settled<WrittenCompany> =>
    'ok' in s ? { ok: { id: s.ok.id, created } } : s;

  const linked = writes.flatMap((w, i) => (w.id ? [i] : []));
  for (const round of rounds(linked, (i) => writes[i]?.id ?? '')) {
    const settled = await updateById(
      api,
      'companies',
      round.map((i) => ({
        traceId: writes[i]!.traceId,
        id: writes[i]!.id!,
        properties: writes[i]!.properties,
      })),
    );
    round.forEach((index, k) => {
      const s = settled[k]!;
      if ('error' in s && s.error.code === STALE_LINK && writes[index]!.domain) unlinked.push(index);
      else out[index] = toWritten(s, false);
    });
  }
  for (const [i, w] of writes.entries()) if (!w.id) unlinked.push(i);

  const domains = [...new Set(unlinked.flatMap((i) => (writes[i]!.domain ? [writes[i]!.domain!] : [])))];
  const found = await findByDomain(api, domains);
  // First occurrences of each new domain are created; later ones update what was just created.
  for (const round of rounds(unlinked, (i) => writes[i]!.domain ?? `#${i}`)) {
    const updates = round.filter((i) => found.has(writes[i]!.domain ?? ''));
    const creates = round.filter((i) => !found.has(writes[i]!.domain ?? ''));
    const updated = await updateById(
      api,
      'companies',
      updates.map((i) => ({
        traceId: writes[i]!.traceId,
        id: found.get(writes[i]!.domain!)!,
        properties: writes[i]!.properties,
      })),
    );
    updates.forEach((index, k) => {
      out[index] = toWritten(updated[k]!, false);
    });
    const created = await createWithTraceIds(
      api,
      'companies',
      creates.map((i) => ({
        traceId: writes[i]!.traceId,
        properties: writes[i]!.properties,
        associations: [],
        matchKey: writes[i]!.domain ?? undefined,
      })),
      'domain',
    );
    creates.forEach((index, k) => {
      const s = created[k]!;
      out[index] = toWritten(s, true);
      const domain = writes[index]!.domain;
      if ('ok' in s && domain) found.set(domain, s.ok.id);
    });
  }
  return out.map((s) => s!);
}

/** Domain → the oldest HubSpot company with it, through the search API. */
export async function findByDomain(api: HubSpotCaller, domains: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let start = 0; start < domains.length; start += SEARCH_VALUES) {
    const values = domains.slice(start, start + SEARCH_VALUES);
    let after: string | undefined = '0';
    while (after !== undefined) {
      const page: string = after;
      const { data } = await api.call({ what: 'companies search by domain', kind: 'search' }, (o) =>
        api.sdk.objectSearch.doSearchWithHttpInfo(
          'companies',
          {
            filterGroups: [
              { filters: [{ propertyName: 'domain', operator: FilterOperatorEnum.In, values }] },
            ],
            properties: ['domain'],
            sorts: ['hs_object_id'],
            limit: SEARCH_PAGE,
            after: page,
          },
          o,
        ),
      );
      for (const company of data.results) {
        const domain = company.properties.domain?.toLowerCase();
        if (!domain) continue;
        const seen = found.get(domain);
        if (seen === undefined || Number(company.id) < Number(seen)) found.set(domain, company.id);
      }
      after = data.paging?.next?.after;
    }
  }
  return found;
}
