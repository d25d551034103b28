import type { EntityType } from '../../events/event-types.js';
import type { ConnectorContext } from '../types.js';
import type { HubSpotCaller } from './hubspot-api.js';
import type { HubSpotCredentials, HubSpotSettings } from './settings.js';

/**
 * The HubSpot ids of other CRM records (an activity's contact, a merge's loser, an association's
 * company): first what this push itself just linked, then the engine's links, else nothing.
 */
export class Links {
  private readonly local = new Map<string, string>();

  constructor(private readonly ctx: ConnectorContext<HubSpotSettings, HubSpotCredentials>) {}

  remember(entityType: EntityType, entityId: string, externalId: string): void {
    this.local.set(`${entityType}:${entityId}`, externalId);
  }

  async find(entityType: EntityType, entityId: string): Promise<string | null> {
    const local = this.local.get(`${entityType}:${entityId}`);
    if (local) return local;
    const link = await this.ctx.lookupLink?.(entityType, entityId);
    return link?.externalId ?? null;
  }
}

/**
 * Email → HubSpot contact id, for contacts this integration has no link for. A batch read by the
 * unique `email` property reads HubSpot's store, not the lagging search index, and counts
 * against the ordinary budget, not the search one.
 */
export async function contactIdsByEmail(api: HubSpotCaller, emails: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const unique = [...new Set(emails)];
  for (let start = 0; start < unique.length; start += 100) {
    const { data } = await api.call({ what: 'contacts batch read by email' }, (o) =>
      api.sdk.objects.readWithHttpInfo(
        'contacts',
        {
          idProperty: 'email',
          inputs: unique.slice(start, start + 100).map((id) => ({ id })),
          properties: ['email'],
          propertiesWithHistory: [],
        },
        undefined,
        o,
      ),
    );
    for (const contact of data.results) {
      const email = contact.properties.email?.toLowerCase();
      if (email) found.set(email, contact.id);
    }
  }
  return found;
}
