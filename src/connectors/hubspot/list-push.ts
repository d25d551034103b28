import { contactOf } from '../../events/contact-of.js';
import { ConfigError, type ConnectorError, isConnectorError, PermanentError } from '../errors.js';
import { LIST_TARGET_KEY, type PushRecord, type PushResult } from '../types.js';
import { contactWrite, type PushEnv } from './contact-push.js';
import { writeContacts } from './contact-writes.js';
import type { HubSpotCaller } from './hubspot-api.js';
import { contactIdsByEmail } from './links.js';

/** HubSpot's object type id for contacts, as the Lists v3 API names object types. */
const CONTACTS_OBJECT_TYPE_ID = '0-1';

/**
 * Which HubSpot list a CRM list goes to: the mapped target (digits are a HubSpot list id,
 * anything else a list name), else the list named after the CRM list. Named lists are found or
 * created (static: `processingType: MANUAL`) once per client.
 */
export class ListResolver {
  private readonly byName = new Map<string, Promise<string>>();

  constructor(private readonly api: HubSpotCaller) {}

  targetOf(record: PushRecord): string {
    const mapped = record.payload[LIST_TARGET_KEY];
    if (typeof mapped === 'string' && mapped.trim() !== '') return mapped.trim();
    if (typeof mapped === 'number') return String(mapped);
    const list = record.event.type.startsWith('CRM_LIST_')
      ? (record.event.data as { list: { id: unknown; name?: unknown } }).list
      : null;
    return typeof list?.name === 'string' && list.name.trim() !== ''
      ? list.name.trim()
      : `CRM list ${String(list?.id)}`;
  }

  /** `via`: the caller of the push in progress, so its requests count against that push. */
  async listId(target: string, via = this.api): Promise<string> {
    if (/^\d+$/.test(target)) return target;
    let id = this.byName.get(target);
    if (!id) {
      id = this.findOrCreate(target, via);
      this.byName.set(target, id);
      id.catch(() => this.byName.delete(target));
    }
    return id;
  }

  private async findOrCreate(name: string, via: HubSpotCaller): Promise<string> {
    try {
      const { data } = await via.call({ what: `lists get "${name}"` }, (o) =>
        via.sdk.lists.getByNameWithHttpInfo(name, CONTACTS_OBJECT_TYPE_ID, false, o),
      );
      return data.list.listId;
    } catch (error) {
      if (!isConnectorError(error) || error.status !== 404) throw error;
    }
    const { data } = await via.call({ what: `lists create "${name}"` }, (o) =>
      via.sdk.lists.createWithHttpInfo(
        { name, objectTypeId: CONTACTS_OBJECT_TYPE_ID, processingType: 'MANUAL' },
        o,
      ),
    );
    return data.list.listId;
  }
}

/**
 * CRM_LIST_MEMBER_ADDED/REMOVED → the HubSpot static list's memberships, batched per list
 * (`PUT /crm/v3/lists/{listId}/memberships/add|remove`, record ids in the body). A member the
 * integration never synced is found by email or, when added, upserted first (and linked).
 */
export async function pushListMemberships(
  env: PushEnv,
  lists: ListResolver,
  records: PushRecord[],
): Promise<PushResult[]> {
  const results: (PushResult | undefined)[] = records.map(() => undefined);
  const created = new Map<number, string>();
  const contactIds = await resolveMembers(env, records, results, created);
  const groups = new Map<string, number[]>();
  for (const [i, record] of records.entries()) {
    if (results[i]) continue;
    const target = lists.targetOf(record);
    let listId: string;
    try {
      listId =
        typeof record.state.listId === 'string' ? record.state.listId : await lists.listId(target, env.api);
    } catch (error) {
      if (!isConnectorError(error) || error.kind !== 'permanent') throw error;
      results[i] = {
        status: 'error',
        error: new ConfigError(`HubSpot list "${target}": ${error.message}`, error),
      };
      continue;
    }
    const key = `${record.operation}:${listId}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }

  for (const [key, indices] of groups) {
    const [operation, listId] = key.split(':') as ['list_add' | 'list_remove', string];
    const ids = [...new Set(indices.map((i) => contactIds[i]!))];
    let missing: Set<string>;
    try {
      missing = await changeMembership(env.api, operation, listId, ids);
    } catch (error) {
      if (!isConnectorError(error) || (error.kind !== 'permanent' && error.kind !== 'config')) throw error;
      for (const i of indices) results[i] = { status: 'error', error: listError(error, listId) };
      continue;
    }
    for (const i of indices) {
      const contactId = contactIds[i]!;
      results[i] = missing.has(contactId)
        ? {
            status: 'error',
            error: new PermanentError(
              `HubSpot list ${listId}: contact ${contactId} does not exist at HubSpot`,
              {
                code: 'RECORD_MISSING',
              },
            ),
          }
        : {
            status: 'ok',
            externalId: `${listId}:${contactId}`,
            state: { listId, contactId },
            extraLinks: created.has(i)
              ? [{ entityType: 'contact', entityId: created.get(i)!, externalId: contactId }]
              : undefined,
          };
    }
  }
  return results.map((r) => r!);
}

async function changeMembership(
  api: HubSpotCaller,
  operation: 'list_add' | 'list_remove',
  listId: string,
  ids: string[],
): Promise<Set<string>> {
  const what = `list ${listId} memberships ${operation === 'list_add' ? 'add' : 'remove'}`;
  const { data } = await api.call({ what }, (o) =>
    operation === 'list_add'
      ? api.sdk.memberships.addWithHttpInfo(listId, ids, o)
      : api.sdk.memberships.removeWithHttpInfo(listId, ids, o),
  );
  return new Set(data.recordIdsMissing ?? []);
}

function listError(error: ConnectorError, listId: string): ConnectorError {
  if (error.status === 404)
    return new ConfigError(`HubSpot list ${listId} does not exist (check mappings.lists)`, error);
  return error;
}

/** The HubSpot contact id of each membership's contact: state, link, email, or a fresh upsert. */
async function resolveMembers(
  env: PushEnv,
  records: PushRecord[],
  results: (PushResult | undefined)[],
  created: Map<number, string>,
): Promise<(string | null)[]> {
  const ids = await Promise.all(
    records.map(async (r) => {
      if (typeof r.state.contactId === 'string') return r.state.contactId;
      const contact = contactOf(r.event);
      return contact ? env.links.find('contact', String(contact.id)) : null;
    }),
  );
  const unresolved = records.flatMap((_, i) => (ids[i] ? [] : [i]));
  const emails = new Map(unresolved.map((i) => [i, contactWrite(records[i]!, null).email]));
  const found = await contactIdsByEmail(
    env.api,
    [...emails.values()].filter((e): e is string => e !== null),
  );
  const toCreate: number[] = [];
  for (const i of unresolved) {
    const email = emails.get(i);
    const id = email ? found.get(email) : undefined;
    if (id) ids[i] = id;
    else if (records[i]!.operation === 'list_remove') {
      results[i] = { status: 'skipped', reason: 'the contact is not at HubSpot: nothing to remove' };
    } else if (email) toCreate.push(i);
    else {
      results[i] = {
        status: 'error',
        error: new PermanentError('HubSpot list membership: the contact has no email and no HubSpot record', {
          code: 'NO_EMAIL',
        }),
      };
    }
  }
  const written = await writeContacts(
    env.api,
    toCreate.map((i) => {
      const payload = Object.fromEntries(
        Object.entries(records[i]!.payload).filter(([key]) => !key.startsWith('$')),
      );
      return contactWrite({ ...records[i]!, payload }, null);
    }),
  );
  toCreate.forEach((i, k) => {
    const settled = written[k]!;
    if ('ok' in settled) {
      ids[i] = settled.ok.id;
      const contact = contactOf(records[i]!.event);
      if (contact) {
        env.links.remember('contact', String(contact.id), settled.ok.id);
        created.set(i, String(contact.id));
      }
    } else results[i] = { status: 'error', error: settled.error };
  });
  return ids;
}
