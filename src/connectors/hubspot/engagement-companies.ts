import { isConnectorError } from '../errors.js';
import { v4Type } from './association-types.js';
import type { Settled } from './batch-isolation.js';
import { errorFromBatchItem } from './batch-results.js';
import type { EngagementType } from './engagement-match.js';
import type { HubSpotCaller } from './hubspot-api.js';
import { errorsOf } from './object-writes.js';

export interface CompanyAssociation {
  engagementId: string;
  companyId: string;
  /** The engagement → company type the create would have given (note → company 190, …). */
  typeId: number;
}

/**
 * Makes, for engagements found instead of created (engagement-lookup.ts), the company
 * association their create would have made. HubSpot makes a create's associations with the
 * record or refuses the input (an association it cannot make fails the create), so a found
 * engagement has the associations of the attempt that created it. That attempt may have gone
 * before the company was linked (the company's own event still on its way) and carried none,
 * where this one would: so the association is made again rather than assumed. A v4 create of an
 * association that exists changes nothing (company-associations.ts relies on it too, when it
 * re-sends type 279 with a company that becomes primary).
 */
export async function associateWithCompanies(
  api: HubSpotCaller,
  objectType: EngagementType,
  wanted: readonly CompanyAssociation[],
): Promise<Settled<true>[]> {
  if (wanted.length === 0) return [];
  const what = `${objectType}-company associations batch create`;
  try {
    const { data } = await api.call({ what }, (o) =>
      api.sdk.associations.createWithHttpInfo(
        objectType,
        'companies',
        {
          inputs: wanted.map((a) => ({
            _from: { id: a.engagementId },
            to: { id: a.companyId },
            types: [v4Type(a.typeId)],
          })),
        },
        o,
      ),
    );
    const settled: Settled<true>[] = wanted.map(() => ({ ok: true }));
    for (const item of errorsOf(data) ?? []) {
      const error = errorFromBatchItem(item, what);
      const named = JSON.stringify(item);
      const hit = wanted.flatMap((a, k) => (named.includes(`"${a.engagementId}"`) ? [k] : []));
      for (const k of hit.length > 0 ? hit : wanted.map((_, k) => k)) settled[k] = { error };
    }
    return settled;
  } catch (error) {
    // The engagements exist either way: each one's retry finds it again and tries once more.
    if (!isConnectorError(error)) throw error;
    return wanted.map(() => ({ error }));
  }
}
