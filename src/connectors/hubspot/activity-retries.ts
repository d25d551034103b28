import type { PushRecord, PushResult } from '../types.js';
import type { PushEnv } from './contact-push.js';
import { associateWithCompanies, type CompanyAssociation } from './engagement-companies.js';
import { findEarlierEngagements } from './engagement-lookup.js';
import { type EngagementType, windowStart } from './engagement-match.js';
import type { CreateWrite } from './object-writes.js';

/** An activity's engagement as the create would send it. */
export interface PlannedEngagement {
  record: PushRecord;
  objectType: EngagementType;
  /** The HubSpot contact it is created with. */
  contactId: string;
  /** The company it is created with, and the association type, when the company is linked. */
  company: { id: string; typeId: number } | null;
  write: CreateWrite;
}

/**
 * The retried activities whose engagement an earlier attempt already created, its answer lost
 * (engagement-lookup.ts finds them): each is settled as its create would have been, with the
 * company association the create would have made (engagement-companies.ts), and must not be
 * created again. An activity not retried makes no read.
 */
export async function settleEarlierAttempts(
  env: PushEnv,
  planned: readonly PlannedEngagement[],
): Promise<Map<PlannedEngagement, PushResult>> {
  const settled = new Map<PlannedEngagement, PushResult>();
  const retried = planned.filter((p) => p.record.retried);
  if (retried.length === 0) return settled;
  const ids = await findEarlierEngagements(
    env.api,
    retried.map((p) => ({
      contactId: p.contactId,
      objectType: p.objectType,
      properties: p.write.properties,
      since: windowStart(p.record.event.occurredAt),
    })),
    (look) =>
      env.logger?.warn(
        {
          hubspotContactId: look.contactId,
          objectType: look.objectType,
          read: look.read,
          unmatched: look.unmatched,
        },
        'retried activities not found among the engagements a look reads (the contact has more of this type): they are created, and may appear twice in HubSpot',
      ),
  );
  const byType = new Map<EngagementType, { plan: PlannedEngagement; id: string }[]>();
  retried.forEach((plan, k) => {
    const id = ids[k];
    if (!id) return;
    byType.set(plan.objectType, [...(byType.get(plan.objectType) ?? []), { plan, id }]);
  });
  for (const [objectType, found] of byType) {
    const wanted = found.flatMap(({ plan, id }): CompanyAssociation[] =>
      plan.company ? [{ engagementId: id, companyId: plan.company.id, typeId: plan.company.typeId }] : [],
    );
    const associated = await associateWithCompanies(env.api, objectType, wanted);
    const associations = new Map(wanted.map((a, k) => [a.engagementId, associated[k]!]));
    for (const f of found) {
      const association = associations.get(f.id);
      settled.set(
        f.plan,
        association && 'error' in association
          ? { status: 'error', error: association.error }
          : { status: 'ok', externalId: f.id, state: { objectType } },
      );
    }
  }
  return settled;
}
