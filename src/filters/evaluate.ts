import { checkFilter, type FilterIssue, type RecordPredicate } from './check-filter.js';
import type { Filter } from './schema.js';

/**
 * Filters (CONTRACT §2): which records an integration receives. Compile once, then test each
 * snapshot with a plain function call. Semantics are documented in docs/mappings.md.
 */

export class FilterCompileError extends Error {
  readonly issues: FilterIssue[];
  constructor(issues: FilterIssue[]) {
    super(
      `invalid filter: ${issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`).join('; ')}`,
    );
    this.name = 'FilterCompileError';
    this.issues = issues;
  }
}

/**
 * Compiles a filter into a predicate over snapshots; throws `FilterCompileError` with every
 * issue (paths prefixed by `where`) when the filter is malformed.
 * @example
 * const active = compileFilter({ logic: 'AND', conditions: [{ type: 'field', field: 'status', operator: 'eq', value: 'ACTIVE' }] });
 * active({ status: 'ACTIVE' }); // true
 */
export function compileFilter(filter: Filter, where = 'filter'): RecordPredicate {
  const { predicate, issues } = checkFilter(filter, where);
  if (!predicate) throw new FilterCompileError(issues);
  return predicate;
}

const compiled = new WeakMap<object, RecordPredicate>();

/**
 * Tests one snapshot; the filter object is compiled on first use and cached, so calling this
 * in a loop with the same filter costs one compile. Throws `FilterCompileError` like `compileFilter`.
 */
export function evaluateFilter(filter: Filter, snapshot: Readonly<Record<string, unknown>>): boolean {
  let predicate = compiled.get(filter);
  if (!predicate) {
    predicate = compileFilter(filter);
    compiled.set(filter, predicate);
  }
  return predicate(snapshot);
}

/**
 * Every problem in a filter, each with its path relative to the filter (`conditions[1].value`);
 * empty when it compiles. Takes unparsed input too (YAML, an admin API body).
 * @example validateFilter({ logic: 'AND', conditions: [{ type: 'field', field: 'stage', operator: 'in', value: 'LEAD' }] })
 * // [{ path: 'conditions[0].value', message: 'operator "in" needs an array, e.g. [LEAD, CUSTOMER], got "LEAD"' }]
 */
export function validateFilter(filter: unknown): FilterIssue[] {
  return checkFilter(filter).issues;
}

export type { FilterIssue, RecordPredicate };
