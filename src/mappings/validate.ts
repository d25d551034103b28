import { checkEntityMapping } from './compile.js';
import { child, fromZodIssues, item, type MappingIssue } from './issues.js';
import { type EntityMappingInput, ListMapping, Mappings, type MappingsInput } from './schema.js';

const ENTITIES = ['contact', 'company', 'activity'] as const;

/**
 * Every problem in an integration's `mappings`, errors and warnings, with paths relative to it
 * (`contact.fields[3].transform[0]`); callers prefix them (`mappings.`). Empty means it compiles
 * and nothing looks suspicious; only `severity: 'error'` issues stop it from compiling.
 * @example validateMappings({ contact: { fields: [{ source: 'email', target: 'email', transform: ['lowrcase'] }] } })
 * // [{ path: 'contact.fields[0].transform[0]', severity: 'error',
 * //    message: 'unknown transform "lowrcase" (did you mean "lowercase"?); allowed: …' }]
 */
export function validateMappings(input: MappingsInput | Mappings): MappingIssue[] {
  const parsed = Mappings.safeParse(input);
  // Entity mappings check their own shape and meaning (so that a shape error in one field does
  // not hide a typo in the next); zod reports the rest.
  const entities = new Set<PropertyKey>(ENTITIES);
  const issues = parsed.success
    ? []
    : fromZodIssues(
        parsed.error.issues.filter((i) => !entities.has(i.path[0] ?? '')),
        '',
      );
  const raw = input as Record<string, unknown> | null;
  for (const entity of ENTITIES) {
    const mapping = raw?.[entity];
    if (mapping !== undefined)
      issues.push(...checkEntityMapping(mapping as EntityMappingInput, entity).issues);
  }
  checkLists(raw?.['lists'], issues);
  return issues;
}

function checkLists(lists: unknown, issues: MappingIssue[]): void {
  if (!Array.isArray(lists)) return;
  const seen = new Map<string, number>();
  lists.forEach((raw, index) => {
    const list = ListMapping.safeParse(raw);
    if (!list.success) return;
    const first = seen.get(list.data.crmListId);
    if (first === undefined) seen.set(list.data.crmListId, index);
    else {
      issues.push({
        path: child(item('lists', index), 'crmListId'),
        severity: 'error',
        message: `CRM list ${list.data.crmListId} is already mapped by lists[${first}]`,
      });
    }
  });
}
