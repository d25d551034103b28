import { isConnectorError } from '../errors.js';
import type { MailchimpApi } from './mailchimp-api.js';

/**
 * Static segments by name, for lists mapped to segments: read once per client (every page),
 * created on first use. Names compare case-insensitively, as Mailchimp shows them. Every tag is
 * a static segment too, so the names are shared with the tags of the audience.
 */
export interface SegmentDirectory {
  /** `via`: the API of the push in progress, so its requests count against that push. */
  idFor(name: string, via?: MailchimpApi): Promise<string>;
  /** Drops what was read: a segment (a tag) deleted in Mailchimp since is found or made again. */
  forget(): void;
}

export function createSegmentDirectory(api: MailchimpApi): SegmentDirectory {
  let byName: Promise<Map<string, string>> | null = null;
  const creating = new Map<string, Promise<string>>();

  const load = (via: MailchimpApi) => {
    byName ??= via
      .staticSegments()
      .then((segments) => new Map(segments.map((s) => [s.name.toLowerCase(), s.id])));
    byName.catch(() => {
      byName = null;
    });
    return byName;
  };

  return {
    forget() {
      byName = null;
    },
    async idFor(name, via = api) {
      const key = name.toLowerCase();
      const known = (await load(via)).get(key);
      if (known) return known;
      let pending = creating.get(key);
      if (!pending) {
        pending = via.createStaticSegment(name).then(
          async (segment) => {
            (await load(via)).set(key, segment.id);
            return segment.id;
          },
          async (error: unknown) => {
            // A tag of this name may have appeared since the read (marketing tagging someone, or
            // the CRM's own tags), and Mailchimp refuses a second segment of a name: read again.
            if (!isConnectorError(error) || error.kind !== 'permanent') throw error;
            byName = null;
            const found = (await load(via)).get(key);
            if (found) return found;
            throw error;
          },
        );
        pending.finally(() => creating.delete(key)).catch(() => {});
        creating.set(key, pending);
      }
      return pending;
    },
  };
}
