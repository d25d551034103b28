import type { EntityType } from '../events/event-types.js';
import { compileFilter } from '../filters/evaluate.js';
import type { Filter } from '../filters/schema.js';
import { type CompiledEntityMapping, compileEntityMapping } from '../mappings/compile.js';
import type { Mappings } from '../mappings/schema.js';

export type CompiledMappings = Partial<Record<EntityType, CompiledEntityMapping>>;

/** Compiles an integration's mappings once; the runtime applies them to every record. */
export function compileIntegrationMappings(mappings: Mappings | undefined): CompiledMappings {
  const compiled: CompiledMappings = {};
  if (!mappings) return compiled;
  for (const entityType of ['contact', 'company', 'activity'] as const) {
    const mapping = mappings[entityType];
    if (mapping) compiled[entityType] = compileEntityMapping(mapping, `mappings.${entityType}`);
  }
  // List memberships map the member contact.
  if (compiled.contact) compiled.list_membership = compiled.contact;
  return compiled;
}

/** No filter lets every record through. */
export function compileIntegrationFilter(
  filter: Filter | undefined,
): (snapshot: Record<string, unknown>) => boolean {
  return filter ? compileFilter(filter) : () => true;
}
