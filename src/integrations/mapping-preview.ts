import type { z } from 'zod';
import { connectors } from '../connectors/registry.js';
import type { Provider } from '../connectors/types.js';
import { entityTypeOf, isKnownEventType } from '../events/event-types.js';
import { formatIssuePath } from '../events/parse-event.js';
import { Activity, Company, Contact } from '../events/snapshots.js';
import { checkEntityMapping } from '../mappings/compile.js';
import type { EntityMappingInput, MappingsInput } from '../mappings/schema.js';

/**
 * What a mapping makes of one CRM record, for admins trying a mapping before (or after) they
 * apply it: `crm-sync mapping preview` and the admin API. Pure: no provider is called.
 */

export const PREVIEW_ENTITIES = ['contact', 'company', 'activity'] as const;
export type PreviewEntity = (typeof PREVIEW_ENTITIES)[number];

const snapshotSchemas: Record<PreviewEntity, z.ZodType> = {
  contact: Contact,
  company: Company,
  activity: Activity,
};

export interface MappingPreviewInput {
  provider: Provider;
  /** The integration's own mappings; entities it leaves out use the connector's default mapping. */
  mappings: MappingsInput | undefined;
  /** A snapshot, or a whole event envelope (its `data` is used). */
  record: unknown;
  /** Which mapping to apply; from the event type for an envelope, else `contact`. */
  entity?: PreviewEntity | undefined;
}

export interface MappingPreview {
  entity: PreviewEntity;
  mappingSource: 'integration' | 'connector-default';
  /** Provider field → value; null when the mapping does not compile (see `issues`). */
  payload: Record<string, unknown> | null;
  /** Compile problems and warnings, then what applying it to this record reported. */
  issues: { path: string; message: string; severity: 'error' | 'warning' }[];
}

/** The record or the mapping cannot be previewed at all; the message says why. */
export class MappingPreviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingPreviewError';
  }
}

/**
 * @example
 * previewMapping({ provider: 'HUBSPOT', mappings: config.mappings, record: { id: 1, email: 'a@x.io' } })
 * // { entity: 'contact', mappingSource: 'integration', payload: { email: 'a@x.io' }, issues: [] }
 */
export function previewMapping(input: MappingPreviewInput): MappingPreview {
  const { snapshot, entity, where } = pickSnapshot(input.record, input.entity);
  const parsed = snapshotSchemas[entity].safeParse(snapshot);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const at = i.path.length === 0 ? where.slice(0, -1) || '(root)' : `${where}${formatIssuePath(i.path)}`;
      return `  ${at}: ${i.message}`;
    });
    throw new MappingPreviewError(`the record is not a valid CRM ${entity}:\n${problems.join('\n')}`);
  }

  const own = input.mappings?.[entity];
  const fallback = connectors[input.provider]?.defaultMappings?.[entity];
  const mapping: EntityMappingInput | undefined = own ?? fallback;
  if (!mapping) {
    throw new MappingPreviewError(
      `no ${entity} mapping: the integration declares none and the ${input.provider} connector ` +
        `${connectors[input.provider] ? `ships no default ${entity} mapping` : 'is not available'}`,
    );
  }
  const { compiled, issues } = checkEntityMapping(mapping, `mappings.${entity}`);
  const applied = compiled?.push(parsed.data as Record<string, unknown>);
  return {
    entity,
    mappingSource: own ? 'integration' : 'connector-default',
    payload: applied?.payload ?? null,
    issues: [...issues, ...(applied?.issues ?? [])],
  };
}

function pickSnapshot(
  record: unknown,
  entity: PreviewEntity | undefined,
): { snapshot: unknown; entity: PreviewEntity; where: string } {
  const envelope = record as { type?: unknown; data?: unknown } | null;
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new MappingPreviewError('the record must be a JSON object: a CRM snapshot or an event envelope');
  }
  if (typeof envelope.type !== 'string' || !('data' in envelope)) {
    return { snapshot: record, entity: entity ?? 'contact', where: '' };
  }
  if (!isKnownEventType(envelope.type)) {
    throw new MappingPreviewError(
      `unknown event type "${envelope.type}": pass the snapshot itself with --entity`,
    );
  }
  const data = envelope.data as Record<string, unknown> | null;
  const from = entityTypeOf[envelope.type];
  // Merges push the winner; list memberships push the member contact.
  if (envelope.type === 'CRM_CONTACT_MERGED')
    return { snapshot: data?.winner, entity: entity ?? 'contact', where: 'data.winner.' };
  if (from === 'list_membership')
    return { snapshot: data?.contact, entity: entity ?? 'contact', where: 'data.contact.' };
  return { snapshot: data, entity: entity ?? from, where: 'data.' };
}
