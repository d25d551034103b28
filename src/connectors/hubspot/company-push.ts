import type { PushRecord, PushResult } from '../types.js';
import { writeCompanies } from './company-writes.js';
import type { PushEnv } from './contact-push.js';
import { normalizeDomain, toHubSpotProperties } from './property-values.js';

/** Company upserts: linked ones by id, the others matched by domain (see company-writes.ts). */
export async function pushCompanies(env: PushEnv, records: PushRecord[]): Promise<PushResult[]> {
  const written = await writeCompanies(
    env.api,
    records.map((record) => {
      const snapshot = record.event.data as { domain?: unknown };
      const domain = normalizeDomain(record.payload.domain ?? snapshot.domain);
      const properties = toHubSpotProperties(record.payload);
      // HubSpot's domain is a bare host name, and the search that matches companies compares it
      // exactly: write it the way it will be looked up.
      if (properties.domain && domain) properties.domain = domain;
      return { traceId: record.key, id: record.externalId, domain, properties };
    }),
  );
  return written.map((settled, i): PushResult => {
    if ('error' in settled) return { status: 'error', error: settled.error };
    env.links.remember('company', records[i]!.entityId, settled.ok.id);
    return { status: 'ok', externalId: settled.ok.id, state: {} };
  });
}
