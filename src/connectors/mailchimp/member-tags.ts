import type { CrmEvent } from '../../events/envelope.js';
import type { MemberTag } from './mailchimp-api.js';

/**
 * Tags the CRM wants on the member: the snapshot's tags, with a tag event's own tag applied (the
 * snapshot may have been taken before or after it).
 */
export function desiredTags(event: CrmEvent, snapshotTags: readonly string[]): string[] {
  const tags = new Map(snapshotTags.map((t) => [t.toLowerCase(), t]));
  if (event.type === 'CRM_CONTACT_TAG_ADDED') tags.set(event.data.tag.toLowerCase(), event.data.tag);
  if (event.type === 'CRM_CONTACT_TAG_REMOVED') tags.delete(event.data.tag.toLowerCase());
  return [...tags.values()];
}

export interface TagPlan {
  /** The tag changes to send (empty: no call). */
  changes: MemberTag[];
  /** The tags the CRM owns afterwards. */
  owned: string[];
}

/**
 * Mailchimp tags are case-insensitive names. The CRM adds what it wants and the member lacks,
 * and removes only tags it set itself (`owned`) and no longer wants: tags marketing added by
 * hand are never touched, even when the CRM has a tag of the same name.
 * `present` is the member's current tags when the answer carried them.
 */
export function planTags(input: {
  desired: readonly string[];
  owned: readonly string[];
  present?: readonly string[] | undefined;
}): TagPlan {
  const key = (t: string) => t.toLowerCase();
  const desired = new Map(input.desired.map((t) => [key(t), t]));
  const owned = new Map(input.owned.map((t) => [key(t), t]));
  const present = input.present ? new Set(input.present.map(key)) : undefined;

  const add = [...desired].filter(([k]) => (present ? !present.has(k) : !owned.has(k))).map(([, t]) => t);
  const remove = [...owned]
    .filter(([k]) => !desired.has(k) && (!present || present.has(k)))
    .map(([, t]) => t);
  const keep = [...owned].filter(([k]) => desired.has(k)).map(([, t]) => t);
  const nowOwned = new Map([...keep, ...add].map((t) => [key(t), t]));
  return {
    changes: [
      ...add.map((name) => ({ name, status: 'active' as const })),
      ...remove.map((name) => ({ name, status: 'inactive' as const })),
    ],
    owned: [...nowOwned.values()],
  };
}
