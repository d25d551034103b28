import type { ContactCompanyRef } from '../../events/snapshots.js';
import { type ConnectorError, isConnectorError } from '../errors.js';
import { CONTACT_TO_COMPANY, PRIMARY_CONTACT_TO_COMPANY, v4Type } from './association-types.js';
import type { Settled } from './batch-isolation.js';
import { errorFromBatchItem } from './batch-results.js';
import { writeCompanies } from './company-writes.js';
import type { HubSpotCaller } from './hubspot-api.js';
import type { Links } from './links.js';
import { errorsOf } from './object-writes.js';
import { normalizeDomain } from './property-values.js';

/** What the contact's link remembers of its company associations, to send only changes. */
export interface AssociationState {
  companyIds: string[];
  primaryCompanyId: string | null;
}

export function associationStateOf(state: Record<string, unknown>): AssociationState {
  const ids = Array.isArray(state.companyIds)
    ? state.companyIds.filter((v): v is string => typeof v === 'string')
    : [];
  const primary = typeof state.primaryCompanyId === 'string' ? state.primaryCompanyId : null;
  return { companyIds: ids, primaryCompanyId: primary };
}

export interface AssociationJob {
  /** HubSpot contact id. */
  contactId: string;
  /** The CRM companies the contact should be associated with. */
  wanted: ContactCompanyRef[];
  previous: AssociationState;
}

export interface AssociationOutcome {
  state: AssociationState;
  /** Companies created at HubSpot on the way, to be linked by the engine. */
  extraLinks: { entityType: 'company'; entityId: string; externalId: string }[];
}

/**
 * Keeps each contact's company associations (v4, HUBSPOT_DEFINED type 279; the primary company
 * also type 1) equal to the CRM's: creates what is missing, archives what the CRM dropped. A
 * company HubSpot does not know yet is found by domain or created, and linked.
 */
export async function syncCompanyAssociations(
  api: HubSpotCaller,
  links: Links,
  jobs: AssociationJob[],
): Promise<Settled<AssociationOutcome>[]> {
  const failed = new Map<number, ConnectorError>();
  const extra = new Map<string, string>();
  await createMissingCompanies(api, links, jobs, extra, failed);

  const plans = await Promise.all(
    jobs.map(async (job) => {
      const desired = new Map<string, boolean>();
      for (const ref of job.wanted) {
        const id = await links.find('company', String(ref.id));
        if (id) desired.set(id, desired.get(id) === true || ref.isPrimary === true);
      }
      const primary = [...desired].find(([, isPrimary]) => isPrimary)?.[0] ?? null;
      const adds = [...desired.keys()].filter(
        (id) =>
          !job.previous.companyIds.includes(id) || (id === primary && job.previous.primaryCompanyId !== id),
      );
      const removes = job.previous.companyIds.filter((id) => !desired.has(id));
      return { job, desired, primary, adds, removes };
    }),
  );

  const adding = plans.flatMap((p, i) => (p.adds.length > 0 && !failed.has(i) ? [i] : []));
  if (adding.length > 0) {
    const inputs = adding.flatMap((i) => {
      const plan = plans[i]!;
      return plan.adds.map((company) => ({
        _from: { id: plan.job.contactId },
        to: { id: company },
        types: [
          v4Type(CONTACT_TO_COMPANY),
          ...(company === plan.primary ? [v4Type(PRIMARY_CONTACT_TO_COMPANY)] : []),
        ],
      }));
    });
    try {
      const { data } = await api.call({ what: 'contact-company associations batch create' }, (o) =>
        api.sdk.associations.createWithHttpInfo('contacts', 'companies', { inputs }, o),
      );
      for (const item of errorsOf(data) ?? []) {
        const error = errorFromBatchItem(item, 'contact-company associations batch create');
        const named = JSON.stringify(item);
        const hit = adding.filter((i) => named.includes(`"${plans[i]!.job.contactId}"`));
        for (const i of hit.length > 0 ? hit : adding) failed.set(i, error);
      }
    } catch (error) {
      failAll(adding, error, failed);
    }
  }

  const removing = plans.flatMap((p, i) => (p.removes.length > 0 && !failed.has(i) ? [i] : []));
  if (removing.length > 0) {
    try {
      await api.call({ what: 'contact-company associations batch archive' }, (o) =>
        api.sdk.associations.archiveWithHttpInfo(
          'contacts',
          'companies',
          {
            inputs: removing.map((i) => ({
              _from: { id: plans[i]!.job.contactId },
              to: plans[i]!.removes.map((id) => ({ id })),
            })),
          },
          o,
        ),
      );
    } catch (error) {
      failAll(removing, error, failed);
    }
  }

  return plans.map((plan, i) => {
    const error = failed.get(i);
    if (error) return { error };
    const extraLinks = plan.job.wanted.flatMap((ref) => {
      const externalId = extra.get(String(ref.id));
      return externalId ? [{ entityType: 'company' as const, entityId: String(ref.id), externalId }] : [];
    });
    return {
      ok: { state: { companyIds: [...plan.desired.keys()], primaryCompanyId: plan.primary }, extraLinks },
    };
  });
}

async function createMissingCompanies(
  api: HubSpotCaller,
  links: Links,
  jobs: AssociationJob[],
  extra: Map<string, string>,
  failed: Map<number, ConnectorError>,
): Promise<void> {
  const wanted = jobs.flatMap((job) => job.wanted);
  // Looked up together: the engine answers lookups made at the same moment with one query.
  const linked = await Promise.all(wanted.map((ref) => links.find('company', String(ref.id))));
  const missing = new Map<string, ContactCompanyRef>();
  wanted.forEach((ref, i) => {
    const crmId = String(ref.id);
    if (!missing.has(crmId) && !linked[i] && (ref.domain || ref.name)) missing.set(crmId, ref);
  });
  if (missing.size === 0) return;
  const refs = [...missing.values()];
  const written = await writeCompanies(
    api,
    refs.map((ref) => {
      const domain = normalizeDomain(ref.domain);
      return {
        traceId: `company-${ref.id}`,
        id: null,
        domain,
        properties: { ...(ref.name ? { name: ref.name } : {}), ...(domain ? { domain } : {}) },
      };
    }),
  );
  written.forEach((settled, k) => {
    const crmId = String(refs[k]!.id);
    if ('ok' in settled) {
      links.remember('company', crmId, settled.ok.id);
      extra.set(crmId, settled.ok.id);
      return;
    }
    jobs.forEach((job, i) => {
      if (job.wanted.some((ref) => String(ref.id) === crmId)) failed.set(i, settled.error);
    });
  });
}

function failAll(indices: number[], error: unknown, failed: Map<number, ConnectorError>): void {
  if (!isConnectorError(error) || error.kind !== 'permanent') throw error;
  for (const i of indices) failed.set(i, error);
}
