import { contactOf } from '../../events/contact-of.js';
import type { Logger } from '../../logging/logger.js';
import type { PushRecord, PushResult } from '../types.js';
import { type AssociationJob, associationStateOf, syncCompanyAssociations } from './company-associations.js';
import { planMerge } from './contact-merge.js';
import { type ContactWrite, writeContacts } from './contact-writes.js';
import type { HubSpotCaller } from './hubspot-api.js';
import type { Links } from './links.js';
import { normalizeEmail, toHubSpotProperties } from './property-values.js';
import { companiesOf } from './snapshots.js';

export interface PushEnv {
  api: HubSpotCaller;
  links: Links;
  /** The integration's logger (what operators should hear of a push besides its results). */
  logger?: Logger | undefined;
}

const ASSOCIATION_OPS = new Set(['associate', 'dissociate']);

/** The HubSpot contact write for a record: its mapped payload, matched by link or email. */
export function contactWrite(record: PushRecord, id: string | null): ContactWrite {
  const properties = toHubSpotProperties(record.payload);
  const email = normalizeEmail(record.payload.email ?? contactOf(record.event)?.email);
  if (email && !id && properties.email === undefined) properties.email = email;
  return { traceId: record.key, id, email, properties };
}

/**
 * Contact records: upserts (also tag changes, which arrive as upserts), merges, and company
 * (dis)associations. Properties are written in batches; then each contact's company
 * associations are brought in line with the CRM's `companies` list.
 */
export async function pushContacts(env: PushEnv, records: PushRecord[]): Promise<PushResult[]> {
  const results: (PushResult | undefined)[] = records.map(() => undefined);
  const ids = records.map((r) => r.externalId);
  const mergedFrom: (string | undefined)[] = records.map(() => undefined);

  for (const [i, record] of records.entries()) {
    if (record.operation !== 'merge') continue;
    const plan = await planMerge(env.api, env.links, record);
    if ('error' in plan) results[i] = { status: 'error', error: plan.error };
    else {
      ids[i] = plan.ok.id;
      mergedFrom[i] = plan.ok.loserEntityId || undefined;
    }
  }

  // An association change of a linked contact changes no property: no write needed.
  const toWrite = records.flatMap((r, i) =>
    results[i] || (ASSOCIATION_OPS.has(r.operation) && ids[i]) ? [] : [i],
  );
  const written = await writeContacts(
    env.api,
    toWrite.map((i) => contactWrite(records[i]!, ids[i] ?? null)),
  );
  toWrite.forEach((index, k) => {
    const settled = written[k]!;
    if ('error' in settled) results[index] = { status: 'error', error: settled.error };
    else {
      ids[index] = settled.ok.id;
      env.links.remember('contact', records[index]!.entityId, settled.ok.id);
    }
  });

  const live = records.flatMap((_, i) => (results[i] ? [] : [i]));
  const jobs: AssociationJob[] = live.map((i) => {
    const record = records[i]!;
    // A contact now written to another HubSpot record than its link said starts from nothing.
    const sameRecord = ids[i] === record.externalId;
    return {
      contactId: ids[i]!,
      wanted: companiesOf(record.event),
      previous: sameRecord ? associationStateOf(record.state) : { companyIds: [], primaryCompanyId: null },
    };
  });
  const needed = jobs.flatMap((job, k) =>
    job.wanted.length > 0 || job.previous.companyIds.length > 0 ? [k] : [],
  );
  const synced = await syncCompanyAssociations(
    env.api,
    env.links,
    needed.map((k) => jobs[k]!),
  );
  const outcomes = new Map(needed.map((k, n) => [live[k]!, synced[n]!]));

  return records.map((record, i): PushResult => {
    const done = results[i];
    if (done) return done;
    const outcome = outcomes.get(i);
    if (outcome && 'error' in outcome) return { status: 'error', error: outcome.error };
    const state = outcome ? outcome.ok.state : associationStateOf(record.state);
    return {
      status: 'ok',
      externalId: ids[i]!,
      state: { ...state },
      mergedFrom: mergedFrom[i] ? { entityId: mergedFrom[i]! } : undefined,
      extraLinks: outcome && outcome.ok.extraLinks.length > 0 ? outcome.ok.extraLinks : undefined,
    };
  });
}
