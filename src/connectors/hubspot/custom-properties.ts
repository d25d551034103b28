import type { Property } from '@hubspot/api-client/lib/codegen/crm/properties/index.js';
import type { FieldDescriptor, PushRecord } from '../types.js';

/**
 * The CRM's custom properties, carried whole under this payload key by the default mapping
 * (`{ source: properties, target: $properties }`), so the sync hash sees every change to them.
 * The connector writes each one to the HubSpot property of the same name when HubSpot has it
 * and it is writable; the others are left out. "$" keeps the key apart from property names.
 */
export const CUSTOM_PROPERTIES_KEY = '$properties';

/** How the key appears in the field catalog, so mapping checks accept it as a target. */
export const CUSTOM_PROPERTIES_FIELD: FieldDescriptor = {
  name: CUSTOM_PROPERTIES_KEY,
  label: 'CRM custom properties, each to the HubSpot property of the same name when it exists',
  type: 'json',
};

export function customPropertiesOf(record: PushRecord): Record<string, unknown> | null {
  const value = record.payload[CUSTOM_PROPERTIES_KEY];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  return Object.keys(value).length > 0 ? (value as Record<string, unknown>) : null;
}

/**
 * The record's payload with `$properties` expanded: its mapped fields, plus the custom
 * properties HubSpot has (and can write) that the mapping did not set itself. Other `$` keys
 * (`$listTarget`) stay for the connector; none is ever sent as a property (toHubSpotProperties).
 */
export function withCustomProperties(record: PushRecord, catalog: readonly Property[] | null): PushRecord {
  const custom = customPropertiesOf(record);
  const payload = Object.fromEntries(
    Object.entries(record.payload).filter(([key]) => key !== CUSTOM_PROPERTIES_KEY),
  );
  if (!custom || !catalog) return { ...record, payload };
  const writable = new Set(
    catalog
      .filter((p) => !p.archived && !p.calculated && p.modificationMetadata?.readOnlyValue !== true)
      .map((p) => p.name),
  );
  for (const [name, value] of Object.entries(custom)) {
    if (writable.has(name) && !(name in payload)) payload[name] = value;
  }
  return { ...record, payload };
}
