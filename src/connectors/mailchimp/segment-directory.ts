import type { MailchimpApi } from './mailchimp-api.js';

/**
 * Static segments by name, for lists mapped to segments: read once per client, created on first
 * use. Names compare case-insensitively, as Mailchimp shows them.
 */
export interface SegmentDirectory {
  idFor(name: string): Promise<string>;
}

export function createSegmentDirectory(api: MailchimpApi): SegmentDirectory {
  let byName: Promise<Map<string, string>> | null = null;
  const creating = new Map<string, Promise<string>>();

  const load = () => {
    byName ??= api
      .staticSegments()
      .then((segments) => new Map(segments.map((s) => [s.name.toLowerCase(), s.id])));
    byName.catch(() => {
      byName = null;
    });
    return byName;
  };

  return {
    async idFor(name) {
      const key = name.toLowerCase();
      const known = (await load()).get(key);
      if (known) return known;
      let pending = creating.get(key);
      if (!pending) {
        pending = api.createStaticSegment(name).then(async (segment) => {
          (await load()).set(key, segment.id);
          return segment.id;
        });
        pending.finally(() => creating.delete(key)).catch(() => {});
        creating.set(key, pending);
      }
      return pending;
    },
  };
}
