import { isConnectorError } from '../errors.js';
import type { ConnectorClient, ConnectorContext, PushRecord, PushResult } from '../types.js';
import { pushActivities } from './activity-push.js';
import { pushArchives } from './archive-push.js';
import { pushCompanies } from './company-push.js';
import { type PushEnv, pushContacts } from './contact-push.js';
import { customPropertiesOf, withCustomProperties } from './custom-properties.js';
import { createCaller, createSdk } from './hubspot-api.js';
import { Links } from './links.js';
import { ListResolver, pushListMemberships } from './list-push.js';
import { PropertyCatalog } from './property-catalog.js';
import type { HubSpotCredentials, HubSpotSettings } from './settings.js';

type Lane = 'companies' | 'contacts' | 'lists' | 'activities' | 'archives' | 'unsupported';

const BATCH_MAX = 100;

const CATALOG_LANES = [
  ['companies', 'companies'],
  ['contacts', 'contacts'],
  ['lists', 'contacts'],
] as const;

/** Companies first, so the contacts and activities of the same push find their links. */
const LANES: Lane[] = ['companies', 'contacts', 'lists', 'activities', 'archives'];

export function laneOf(record: PushRecord): Lane {
  switch (record.entityType) {
    case 'company':
      return record.operation === 'archive'
        ? 'archives'
        : record.operation === 'upsert'
          ? 'companies'
          : 'unsupported';
    case 'contact':
      return record.operation === 'archive' ? 'archives' : 'contacts';
    case 'activity':
      return record.operation === 'activity' ? 'activities' : 'unsupported';
    case 'list_membership':
      return record.operation === 'list_add' || record.operation === 'list_remove' ? 'lists' : 'unsupported';
  }
}

export function createHubSpotClient(
  ctx: ConnectorContext<HubSpotSettings, HubSpotCredentials>,
): ConnectorClient {
  const sdk = createSdk(ctx.settings, ctx.credentials);
  const api = createCaller(ctx, sdk);
  const catalog = new PropertyCatalog(api, ctx.logger);
  const lists = new ListResolver(api);

  async function runLane(lane: Lane, env: PushEnv, records: PushRecord[]): Promise<PushResult[]> {
    switch (lane) {
      case 'companies':
        return pushCompanies(env, records);
      case 'contacts':
        return pushContacts(env, records);
      case 'lists':
        return pushListMemberships(env, lists, records);
      case 'activities':
        return pushActivities(env, records);
      case 'archives':
        return pushArchives(env, records, ctx.settings.deleteMode);
      case 'unsupported':
        return records.map((r) => ({
          status: 'skipped',
          reason: `HubSpot does not sync ${r.operation} of a ${r.entityType}`,
        }));
    }
  }

  const client: ConnectorClient = {
    async check() {
      try {
        await api.call({ what: 'check' }, (o) =>
          sdk.objectBasic.getPageWithHttpInfo(
            'contacts',
            1,
            undefined,
            ['email'],
            undefined,
            undefined,
            false,
            o,
          ),
        );
        return {
          ok: true,
          account: ctx.settings.portalId ? `HubSpot portal ${ctx.settings.portalId}` : undefined,
          message: `access token accepted by ${ctx.settings.baseUrl}`,
        };
      } catch (error) {
        if (!isConnectorError(error)) throw error;
        return { ok: false, message: error.message };
      }
    },

    describeFields: (entityType) => catalog.describe(entityType),

    /**
     * One result per record, in order. A failure that concerns every record (auth, 429, 5xx,
     * network) is thrown while nothing has been written; after that it becomes the remaining
     * records' result, so what did land is linked.
     */
    async push(batch, request) {
      // HubSpot's batch endpoints take 100 inputs: a larger batch goes in slices.
      if (batch.length > BATCH_MAX) {
        const results: PushResult[] = [];
        for (let start = 0; start < batch.length; start += BATCH_MAX) {
          results.push(...(await client.push(batch.slice(start, start + BATCH_MAX), request)));
        }
        return results;
      }
      // The push's own caller: the engine counts its requests, the catalog's included, against it.
      const env: PushEnv = {
        api: request ? createCaller(ctx, sdk, request) : api,
        links: new Links(ctx),
        logger: ctx.logger,
      };
      const results: (PushResult | undefined)[] = batch.map(() => undefined);
      const lanes = new Map<Lane, number[]>();
      for (const [i, record] of batch.entries()) {
        const lane = laneOf(record);
        lanes.set(lane, [...(lanes.get(lane) ?? []), i]);
      }
      if (ctx.settings.createMissingProperties) await createMissingProperties(env, batch, lanes);
      const prepared = await withCatalogProperties(env, batch, lanes);
      for (const lane of [...LANES, 'unsupported'] as const) {
        const indices = lanes.get(lane);
        if (!indices) continue;
        try {
          const laneResults = await runLane(
            lane,
            env,
            indices.map((i) => prepared[i]!),
          );
          indices.forEach((index, k) => {
            results[index] = laneResults[k];
          });
        } catch (error) {
          if (!isConnectorError(error) || results.every((r) => r === undefined)) throw error;
          for (const index of indices) results[index] = { status: 'error', error };
        }
      }
      return results.map((r) => r!);
    },

    async close() {
      sdk.close();
    },
  };
  return client;

  async function createMissingProperties(env: PushEnv, batch: PushRecord[], lanes: Map<Lane, number[]>) {
    for (const [lane, objectType] of CATALOG_LANES) {
      const names = (lanes.get(lane) ?? []).flatMap((i) =>
        Object.keys(batch[i]!.payload).filter((name) => !name.startsWith('$')),
      );
      if (names.length > 0) await catalog.ensure(objectType, names, env.api);
    }
  }

  /** Expands `$properties` against the catalog (read only when some record carries any). */
  async function withCatalogProperties(env: PushEnv, batch: PushRecord[], lanes: Map<Lane, number[]>) {
    const prepared = [...batch];
    for (const [lane, objectType] of CATALOG_LANES) {
      const indices = lanes.get(lane) ?? [];
      const needed = indices.some((i) => customPropertiesOf(batch[i]!) !== null);
      const properties = needed ? await catalog.properties(objectType, env.api) : null;
      for (const i of indices) prepared[i] = withCustomProperties(batch[i]!, properties);
    }
    return prepared;
  }
}
