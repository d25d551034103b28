import { ConfigError } from '../errors.js';
import type { MailchimpApi } from './mailchimp-api.js';
import { inferMergeFieldType, MERGE_TAG } from './member-draft.js';
import type { MergeField } from './responses.js';

/**
 * The audience's merge fields, read once and kept for `ttlMs` (admins rarely change them, and
 * every member push needs them to format values), refreshed when a push needs a tag it lacks.
 */
export interface MergeFieldCatalog {
  get(): Promise<ReadonlyMap<string, MergeField>>;
  /**
   * Makes sure the tags exist: created with a type guessed from the sample value when `create`,
   * else left missing (the draft then reports them). Returns the fresh catalog.
   */
  ensure(missing: ReadonlyMap<string, unknown>, create: boolean): Promise<ReadonlyMap<string, MergeField>>;
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

  const load = () => {
    loading ??= api
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
  const get = async () => (cached && now() - cached.at < ttlMs ? cached.fields : load());

  return {
    get,
    async ensure(missing, create) {
      if (missing.size === 0) return get();
      // Someone may have added them in Mailchimp since the catalog was read.
      const fields = await load();
      if (!create) return fields;
      for (const [tag, sample] of missing) {
        if (fields.has(tag)) continue;
        if (!MERGE_TAG.test(tag)) {
          throw new ConfigError(
            `cannot create merge field ${JSON.stringify(tag)}: a merge tag is 1–10 capital letters, digits or "_", starting with a letter`,
            { code: 'INVALID_MERGE_TAG' },
          );
        }
        const created = await api.addMergeField({ tag, name: tag, type: inferMergeFieldType(sample) });
        fields.set(created.tag.toUpperCase(), created);
      }
      return fields;
    },
  };
}
