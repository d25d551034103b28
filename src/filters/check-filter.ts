import { describeValue } from '../mappings/describe-value.js';
import { didYouMean } from '../mappings/did-you-mean.js';
import { child, fromZodIssues, item } from '../mappings/issues.js';
import { parsePath, readPath } from '../mappings/path.js';
import { type FieldTest, OPERATORS } from './operators.js';
import { FILTER_OPERATORS, Filter } from './schema.js';

/**
 * Walks a filter once: checks every node (reporting all problems, each with its path) and, when
 * there are none, builds the predicate. The walk reads the raw object itself rather than leaning
 * on zod's union error ("Invalid input" at `conditions[1]`), so that a misspelt operator is named
 * as such; the zod schema still runs afterwards as the final word on shape.
 */

export interface FilterIssue {
  /** Relative to the filter: `conditions[1].value`. */
  path: string;
  message: string;
}

export type RecordPredicate = (snapshot: Readonly<Record<string, unknown>>) => boolean;

const GROUP_KEYS = new Set(['type', 'logic', 'conditions']);
const CONDITION_KEYS = new Set(['type', 'field', 'operator', 'value']);
const OPERATOR_NAMES: readonly string[] = FILTER_OPERATORS;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(
  node: Record<string, unknown>,
  allowed: Set<string>,
  where: string,
  issues: FilterIssue[],
) {
  for (const key of Object.keys(node)) {
    if (!allowed.has(key)) {
      issues.push({
        path: child(where, key),
        message: `unknown key "${key}"${didYouMean(key, [...allowed])}; allowed: ${[...allowed].join(', ')}`,
      });
    }
  }
}

function group(node: Record<string, unknown>, where: string, issues: FilterIssue[]): RecordPredicate {
  unknownKeys(node, GROUP_KEYS, where, issues);
  if (node['type'] !== undefined && node['type'] !== 'group') {
    issues.push({
      path: child(where, 'type'),
      message: `a group has type "group" (or none), got ${describeValue(node['type'])}`,
    });
  }
  const logic = node['logic'] ?? 'AND';
  if (logic !== 'AND' && logic !== 'OR') {
    issues.push({ path: child(where, 'logic'), message: `logic is AND or OR, got ${describeValue(logic)}` });
  }
  const conditions = node['conditions'];
  if (!Array.isArray(conditions)) {
    issues.push({
      path: child(where, 'conditions'),
      message: `conditions must be an array, got ${describeValue(conditions)}`,
    });
    return () => false;
  }
  const tests = conditions.map((c, i) => walk(c, item(child(where, 'conditions'), i), issues));
  // An empty AND holds (nothing to fail), an empty OR does not (nothing to satisfy).
  if (logic === 'OR') {
    if (tests.length === 1) return tests[0]!;
    return (snapshot) => {
      for (const test of tests) if (test(snapshot)) return true;
      return false;
    };
  }
  if (tests.length === 1) return tests[0]!;
  return (snapshot) => {
    for (const test of tests) if (!test(snapshot)) return false;
    return true;
  };
}

function condition(node: Record<string, unknown>, where: string, issues: FilterIssue[]): RecordPredicate {
  unknownKeys(node, CONDITION_KEYS, where, issues);
  if (node['type'] !== 'field') {
    issues.push({
      path: child(where, 'type'),
      message: `a condition has type "field" (a group has "conditions"), got ${describeValue(node['type'])}`,
    });
  }
  const field = node['field'];
  const path =
    typeof field === 'string' ? parsePath(field) : { error: `needs a dot path, got ${describeValue(field)}` };
  if ('error' in path) {
    const prefix = typeof field === 'string' ? `invalid path "${field}": ` : '';
    issues.push({ path: child(where, 'field'), message: prefix + path.error });
  }
  const name = node['operator'];
  const operator =
    typeof name === 'string' && Object.hasOwn(OPERATORS, name)
      ? OPERATORS[name as keyof typeof OPERATORS]
      : undefined;
  if (!operator) {
    const hint = typeof name === 'string' ? didYouMean(name, OPERATOR_NAMES) : '';
    issues.push({
      path: child(where, 'operator'),
      message: `unknown operator ${describeValue(name)}${hint}; allowed: ${OPERATOR_NAMES.join(', ')}`,
    });
    return () => false;
  }
  const problem = operator.check(node['value']);
  if (problem) issues.push({ path: child(where, 'value') + (problem.path ?? ''), message: problem.message });
  if (problem || 'error' in path) return () => false;
  const test: FieldTest = operator.build(node['value']);
  return (snapshot) => test(readPath(snapshot, path));
}

function walk(node: unknown, where: string, issues: FilterIssue[]): RecordPredicate {
  if (!isObject(node)) {
    issues.push({ path: where, message: `expected a condition or a group, got ${describeValue(node)}` });
    return () => false;
  }
  return 'conditions' in node ? group(node, where, issues) : condition(node, where, issues);
}

/**
 * Checks a filter and builds its predicate; `predicate` is undefined when there are issues.
 * `where` prefixes issue paths (`filter` gives `filter.conditions[1].value`).
 */
export function checkFilter(
  filter: unknown,
  where = '',
): { predicate: RecordPredicate | undefined; issues: FilterIssue[] } {
  const issues: FilterIssue[] = [];
  if (!isObject(filter)) {
    issues.push({
      path: where,
      message: `a filter is a group { logic, conditions }, got ${describeValue(filter)}`,
    });
    return { predicate: undefined, issues };
  }
  const predicate = group(filter, where, issues);
  if (issues.length === 0) {
    const parsed = Filter.safeParse(filter);
    if (!parsed.success) issues.push(...fromZodIssues(parsed.error.issues, where));
  }
  return { predicate: issues.length === 0 ? predicate : undefined, issues };
}
