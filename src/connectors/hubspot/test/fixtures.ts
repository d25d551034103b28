import { directContext } from '../../../../test/helpers/connector-context.js';
import { CrmEvent, type CrmEventInput } from '../../../events/envelope.js';
import type { EntityType } from '../../../events/event-types.js';
import type { ConnectorContext, Operation, PushRecord } from '../../types.js';
import { HubSpotCredentials, HubSpotSettings, type HubSpotSettingsInput } from '../settings.js';

export const TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';

let counter = 0;

/** A validated CRM event of the given type, with the envelope filled in. */
export function event(type: CrmEventInput['type'], data: Record<string, unknown>): CrmEvent {
  counter += 1;
  return CrmEvent.parse({
    id: `evt_${counter}`,
    type,
    organizationId: 'org_1',
    occurredAt: '2026-11-22T10:30:00.000Z',
    data,
  } as CrmEventInput);
}

export function contactData(id: number, extra: Record<string, unknown> = {}) {
  return { id, email: `user${id}@example.com`, givenName: `Given${id}`, familyName: `Family${id}`, ...extra };
}

/** A push record as the engine builds it. */
export function record(
  crmEvent: CrmEvent,
  options: {
    operation?: Operation;
    entityType?: EntityType;
    entityId?: string;
    externalId?: string | null;
    payload?: Record<string, unknown>;
    state?: Record<string, unknown>;
  } = {},
): PushRecord {
  const data = crmEvent.data as { id?: unknown; winner?: { id: unknown } };
  const entityId = options.entityId ?? String(data.winner?.id ?? data.id);
  return {
    key: `${crmEvent.id}:${entityId}`,
    operation: options.operation ?? 'upsert',
    entityType: options.entityType ?? 'contact',
    entityId,
    externalId: options.externalId ?? null,
    payload: options.payload ?? {},
    state: options.state ?? {},
    event: crmEvent,
  };
}

export type TestContext = ConnectorContext<HubSpotSettings, HubSpotCredentials> & {
  calls: number;
  /** The `kind` of every request, in order (`search` for the search API). */
  kinds: (string | undefined)[];
  links: Map<string, string>;
  quotas: { dailyMax: number; dailyRemaining: number; resetsAt?: Date | undefined }[];
};

/**
 * `directContext()` plus what the engine will provide: link look-ups (from `links`, keyed
 * `contact:42`) and quota reports (collected in `quotas`).
 */
export function hubspotContext(
  settings: HubSpotSettingsInput,
  links: Record<string, string> = {},
): TestContext {
  const base = directContext(
    HubSpotSettings.parse(settings),
    HubSpotCredentials.parse({ accessToken: TOKEN }),
  );
  const ctx = Object.assign(base, {
    links: new Map(Object.entries(links)),
    quotas: [] as TestContext['quotas'],
    kinds: [] as TestContext['kinds'],
  }) as TestContext;
  const direct = base.request.bind(base);
  ctx.request = (call, options) => {
    ctx.kinds.push(options?.kind);
    return direct(call, options);
  };
  ctx.lookupLink = async (entityType, entityId) => {
    const externalId = ctx.links.get(`${entityType}:${entityId}`);
    return externalId ? { externalId, state: {} } : null;
  };
  ctx.reportQuota = (quota) => {
    ctx.quotas.push(quota);
  };
  return ctx;
}
