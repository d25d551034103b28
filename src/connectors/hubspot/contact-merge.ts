import { isConnectorError } from '../errors.js';
import type { PushRecord } from '../types.js';
import type { Settled } from './batch-isolation.js';
import type { HubSpotCaller } from './hubspot-api.js';
import type { Links } from './links.js';

export interface MergePlan {
  /** The HubSpot id the winner's properties are written to; null: match by email. */
  id: string | null;
  loserEntityId: string;
}

/**
 * CRM_CONTACT_MERGED. Both contacts linked to different HubSpot records: HubSpot's merge
 * (`POST /crm/v3/objects/contacts/merge`, the winner primary; irreversible), and the merged
 * record becomes the winner's. Only one linked: that record becomes the winner's. Neither: the
 * winner is matched by email like any other contact. The engine re-points the loser's link.
 */
export async function planMerge(
  api: HubSpotCaller,
  links: Links,
  record: PushRecord,
): Promise<Settled<MergePlan>> {
  if (record.event.type !== 'CRM_CONTACT_MERGED') {
    return { ok: { id: record.externalId, loserEntityId: '' } };
  }
  const loserEntityId = String(record.event.data.loserId);
  const winner = record.externalId;
  const loser = await links.find('contact', loserEntityId);
  if (winner && loser && winner !== loser) {
    try {
      const { data } = await api.call({ what: 'contacts merge' }, (o) =>
        api.sdk.contacts.mergeWithHttpInfo({ primaryObjectId: winner, objectIdToMerge: loser }, o),
      );
      return { ok: { id: data.id, loserEntityId } };
    } catch (error) {
      // A refused merge (e.g. one of them was deleted) fails this record only.
      if (isConnectorError(error) && error.kind === 'permanent') return { error };
      throw error;
    }
  }
  return { ok: { id: winner ?? loser, loserEntityId } };
}
