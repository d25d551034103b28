import { ConfigError, isConnectorError } from '../errors.js';
import type { MailchimpApi } from './mailchimp-api.js';
import { inferMergeFieldType, MERGE_TAG } from './member-draft.js';
import type { MergeField } from './responses.js';

/**
 * The audience's merge fields, read once and kept for `ttlMs` (admins rarely change them, and
 * every member push needs them to format values), refreshed when a push needs a tag it lacks.
 */
/**
 * `via` is the API of the push in progress, so a read or creation it causes is counted against
 * that push; without it, the client's own.
 */
export interface MergeFieldCatalog {
  get(via?: MailchimpApi): Promise<ReadonlyMap<string, MergeField>>;
  /**
   * Makes sure the tags exist: created with a type guessed from the sample value when `create`,
   * else left missing (the draft then reports them). A tag another worker creates first is
   * taken as it made it. Returns the fresh catalog.
   */
  ensure(
    missing: ReadonlyMap<string, unknown>,
    create: boolean,
    via?: MailchimpApi,
  ): Promise<ReadonlyMap<string, MergeField>>;
}

export function createMergeFieldCatalog(
  api: MailchimpApi,
  options: { ttlMs?: number; now?: () => number } = {},
): MergeFieldCatalog {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let cached: { at: number; fields: Map<string, MergeField> } | null = null;
  // Concurrent pushes share one read instead of each fetching the catalog.
  let loading: Promise<Map<string, MergeField>> | null = null;

  const load = (via: MailchimpApi) => {
    loading ??= via
      .getMergeFields()
      .then((fields) => {
        cached = { at: now(), fields: new Map(fields.map((f) => [f.tag.toUpperCase(), f])) };
        return cached.fields;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };
  const get = async (via = api) => (cached && now() - cached.at < ttlMs ? cached.fields : load(via));
  // A read already in flight may have left before the change it must see: wait it out first.
  const reload = async (via: MailchimpApi) => {
    await loading?.catch(() => undefined);
    return load(via);
  };

  return {
    get,
    async ensure(missing, create, via = api) {
      if (missing.size === 0) return get(via);
      // Someone may have added them in Mailchimp since the catalog was read.
      let fields = await load(via);
      if (!create) return fields;
      for (const [tag, sample] of missing) {
        if (fields.has(tag)) continue;
        if (!MERGE_TAG.test(tag)) {
          throw new ConfigError(
            `cannot create merge field ${JSON.stringify(tag)}: a merge tag is 1–10 capital letters, digits or "_", starting with a letter`,
            { code: 'INVALID_MERGE_TAG' },
          );
        }
        try {
          const created = await via.addMergeField({ tag, name: tag, type: inferMergeFieldType(sample) });
          fields.set(created.tag.toUpperCase(), created);
        } catch (error) {
          // Another worker (or an admin) created the tag since the read: Mailchimp answers 400
          // Invalid Resource "A Merge Field with the tag … already exists", which is permanent
          // and would dead-letter the whole batch. A fresh catalog, not the answer's wording,
          // decides whether the field is there now.
          if (!isConnectorError(error) || error.status !== 400) throw error;
          fields = await reload(via);
          if (!fields.has(tag)) throw error;
        }
      }
      return fields;
    },
  };
}
