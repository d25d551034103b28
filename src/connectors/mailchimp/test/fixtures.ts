import { directContext } from '../../../../test/helpers/connector-context.js';
import { type CrmEvent, type CrmEventInput, CrmEvent as CrmEventSchema } from '../../../events/envelope.js';
import type { EntityType } from '../../../events/event-types.js';
import type { ConnectorClient, Operation, PushRecord, PushResult } from '../../types.js';
import { mailchimpConnector } from '../index.js';
import { MailchimpCredentials, MailchimpSettings, type MailchimpSettingsInput } from '../settings.js';

let sequence = 0;

/** A validated CRM event, as the engine hands it to a connector. */
export function crmEvent(type: CrmEventInput['type'], data: Record<string, unknown>): CrmEvent {
  sequence += 1;
  return CrmEventSchema.parse({
    id: `evt_${sequence}`,
    type,
    organizationId: 'org_1',
    occurredAt: '2026-11-22T10:30:00.000Z',
    data,
  } as CrmEventInput);
}

export function contact(id: number, email: string, extra: Record<string, unknown> = {}) {
  return { id, email, givenName: 'Ada', familyName: 'Lovelace', ...extra };
}

/** The default mapping's payload for a contact, built by hand (the mapping engine is elsewhere). */
export function payloadOf(
  c: { email?: string | null; givenName?: string; familyName?: string },
  extra: Record<string, unknown> = {},
) {
  return { EMAIL: c.email, FNAME: c.givenName, LNAME: c.familyName, ...extra };
}

export function record(input: {
  operation: Operation;
  event: CrmEvent;
  entityId: string;
  entityType?: EntityType;
  payload?: Record<string, unknown>;
  externalId?: string | null;
  state?: Record<string, unknown>;
}): PushRecord {
  return {
    key: `${input.entityType ?? 'contact'}:${input.entityId}`,
    operation: input.operation,
    entityType: input.entityType ?? 'contact',
    entityId: input.entityId,
    externalId: input.externalId ?? null,
    payload: input.payload ?? {},
    state: input.state ?? {},
    event: input.event,
  };
}

export interface Link {
  externalId: string | null;
  state: Record<string, unknown>;
}

/**
 * A connector client on a direct context (calls run at once and are counted), plus the part of
 * the engine a connector sees: links stored from ok results and looked up by `lookupLink`.
 */
export function harness(settings: MailchimpSettingsInput, apiKey: string) {
  const parsedSettings = MailchimpSettings.parse(settings);
  const credentials = MailchimpCredentials.parse({ apiKey });
  const links = new Map<string, Link>();
  const kinds: string[] = [];
  const ctx = Object.assign(directContext(parsedSettings, credentials), {
    async lookupLink(entityType: EntityType, entityId: string) {
      return links.get(`${entityType}:${entityId}`) ?? null;
    },
  });
  const request = ctx.request.bind(ctx);
  ctx.request = (call, options) => {
    kinds.push(options?.kind ?? '');
    return request(call, options);
  };
  const client: ConnectorClient = mailchimpConnector.createClient(ctx);

  /** The record as the engine would build it next time: with its link's id and state. */
  const linked = (r: PushRecord): PushRecord => {
    const link = links.get(`${r.entityType}:${r.entityId}`);
    return link ? { ...r, externalId: link.externalId, state: link.state } : r;
  };

  return {
    ctx,
    client,
    links,
    kinds,
    linked,
    /** Pushes like the engine: records get their links, ok results store them. */
    async push(records: PushRecord[]): Promise<PushResult[]> {
      const withLinks = records.map(linked);
      const results = await client.push(withLinks);
      results.forEach((result, i) => {
        const r = withLinks[i] as PushRecord;
        if (result.status !== 'ok') return;
        links.set(`${r.entityType}:${r.entityId}`, {
          externalId: result.externalId,
          state: result.state ?? {},
        });
        if (result.mergedFrom) links.delete(`${r.entityType}:${result.mergedFrom.entityId}`);
      });
      return results;
    },
  };
}

export function okResult(result: PushResult | undefined) {
  if (result?.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(result, errorFields)}`);
  return result;
}

export function errorResult(result: PushResult | undefined) {
  if (result?.status !== 'error') throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result.error;
}

function errorFields(_key: string, value: unknown) {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
