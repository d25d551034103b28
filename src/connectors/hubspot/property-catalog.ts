import {
  type Property,
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from '@hubspot/api-client/lib/codegen/crm/properties/index.js';
import type { EntityType } from '../../events/event-types.js';
import type { Logger } from '../../logging/logger.js';
import { isConnectorError } from '../errors.js';
import type { FieldDescriptor } from '../types.js';
import { CUSTOM_PROPERTIES_FIELD } from './custom-properties.js';
import type { HubSpotCaller } from './hubspot-api.js';
import type { ObjectType } from './object-writes.js';

/** Where created properties go, so admins can tell them from their own. */
export const PROPERTY_GROUP = 'crm_sync';

/** The HubSpot object whose properties a CRM entity's mapping targets. Activities: notes, the common case. */
export const OBJECT_TYPE_OF: Partial<Record<EntityType, ObjectType>> = {
  contact: 'contacts',
  company: 'companies',
  activity: 'notes',
};

/**
 * HubSpot's property definitions (`GET /crm/v3/properties/{objectType}`) as the field catalog
 * mappings are checked against: name, type, enumeration options, and whether it can be written.
 */
export function toFieldDescriptor(property: Property): FieldDescriptor {
  const options = property.options?.filter((o) => !o.hidden).map((o) => o.value);
  return {
    name: property.name,
    label: property.label,
    type: fieldTypeOf(property),
    options: property.type === 'enumeration' && options && options.length > 0 ? options : undefined,
    readOnly:
      property.modificationMetadata?.readOnlyValue === true || property.calculated === true || undefined,
  };
}

function fieldTypeOf(property: Property): FieldDescriptor['type'] {
  switch (property.type) {
    case 'number':
      return 'number';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'bool':
      return 'boolean';
    case 'enumeration':
      return property.fieldType === 'booleancheckbox' ? 'boolean' : 'enumeration';
    case 'phone_number':
      return 'phone';
    case 'json':
      return 'json';
    default:
      return 'string';
  }
}

/**
 * The catalog, read once per object type and client; missing properties created on demand.
 * `via` is the caller of the push in progress, so the requests it causes count against that
 * push; without it, the client's own.
 */
export class PropertyCatalog {
  private readonly known = new Map<ObjectType, Promise<Property[]>>();
  private readonly groups = new Map<ObjectType, Promise<void>>();
  /** The ensure in progress per object type, which the next one waits for. */
  private readonly ensuring = new Map<ObjectType, Promise<unknown>>();

  constructor(
    private readonly api: HubSpotCaller,
    private readonly logger: Logger,
  ) {}

  properties(objectType: ObjectType, via = this.api): Promise<Property[]> {
    let cached = this.known.get(objectType);
    if (!cached) {
      cached = via
        .call({ what: `${objectType} properties` }, (o) =>
          via.sdk.properties.getAllWithHttpInfo(objectType, false, undefined, o),
        )
        .then(({ data }) => data.results);
      this.known.set(objectType, cached);
      cached.catch(() => this.known.delete(objectType));
    }
    return cached;
  }

  async describe(entityType: EntityType): Promise<FieldDescriptor[]> {
    const objectType = OBJECT_TYPE_OF[entityType];
    if (!objectType) return [];
    const fields = (await this.properties(objectType)).filter((p) => !p.archived).map(toFieldDescriptor);
    return objectType === 'contacts' || objectType === 'companies'
      ? [...fields, CUSTOM_PROPERTIES_FIELD]
      : fields;
  }

  /**
   * `settings.createMissingProperties`: creates the properties a payload sets that HubSpot does
   * not have, as single-line text in the `crm_sync` group. A name HubSpot refuses is left for
   * the write itself to report per record.
   */
  ensure(objectType: ObjectType, names: Iterable<string>, via = this.api): Promise<string[]> {
    // Two pushes at once that both miss a property would both create it: a request wasted on a
    // 409, and a warning that HubSpot refused it. One at a time per object type; the next sees
    // what the previous created in the catalog.
    const previous = this.ensuring.get(objectType) ?? Promise.resolve();
    const mine = previous.then(() => this.ensureNow(objectType, names, via));
    const settled = mine.catch(() => undefined);
    this.ensuring.set(objectType, settled);
    void settled.then(() => {
      if (this.ensuring.get(objectType) === settled) this.ensuring.delete(objectType);
    });
    return mine;
  }

  private async ensureNow(objectType: ObjectType, names: Iterable<string>, via: HubSpotCaller) {
    const existing = new Set((await this.properties(objectType, via)).map((p) => p.name));
    const missing = [...new Set(names)].filter((name) => !existing.has(name));
    if (missing.length === 0) return [];
    try {
      await this.ensureGroup(objectType, via);
      const { data } = await via.call({ what: `${objectType} properties batch create` }, (o) =>
        via.sdk.propertyBatch.createWithHttpInfo(
          objectType,
          {
            inputs: missing.map((name) => ({
              name,
              label: labelOf(name),
              type: PropertyCreateTypeEnum.String,
              fieldType: PropertyCreateFieldTypeEnum.Text,
              groupName: PROPERTY_GROUP,
            })),
          },
          o,
        ),
      );
      const all = await this.properties(objectType, via);
      this.known.set(objectType, Promise.resolve([...all, ...data.results]));
      return data.results.map((p) => p.name);
    } catch (error) {
      if (!isConnectorError(error) || error.kind !== 'permanent') throw error;
      this.logger.warn(
        { objectType, missing, code: error.code },
        'HubSpot refused to create mapped properties',
      );
      return [];
    }
  }

  private ensureGroup(objectType: ObjectType, via: HubSpotCaller): Promise<void> {
    let ready = this.groups.get(objectType);
    if (ready) return ready;
    ready = (async () => {
      try {
        await via.call({ what: `${objectType} property group ${PROPERTY_GROUP}` }, (o) =>
          via.sdk.propertyGroups.getByNameWithHttpInfo(objectType, PROPERTY_GROUP, o),
        );
      } catch (error) {
        if (!isConnectorError(error) || error.status !== 404) throw error;
        await via.call({ what: `${objectType} property group create` }, (o) =>
          via.sdk.propertyGroups.createWithHttpInfo(
            objectType,
            { name: PROPERTY_GROUP, label: 'CRM sync', displayOrder: -1 },
            o,
          ),
        );
      }
    })();
    this.groups.set(objectType, ready);
    ready.catch(() => this.groups.delete(objectType));
    return ready;
  }
}

/** `crm_plan_tier` → `Crm plan tier`. */
export function labelOf(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
