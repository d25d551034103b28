import { describeValue } from '../mappings/describe-value.js';
import { boundOf, equalsTo, isEmpty, isScalar, readAs, type Scalar } from './compare.js';
import type { FilterOperator } from './schema.js';

/**
 * The operators of the CRM's filter format, each as data: what its `value` must look like, and
 * the test of a record's value it builds. A missing field is `undefined` here; every operator
 * answers for it (eq → false, not_in → true, is_empty → true, …) instead of throwing.
 */

export type FieldTest = (actual: unknown) => boolean;

interface Operator {
  /** What is wrong with the condition's value for this operator, if anything. */
  check(value: unknown): { path?: string; message: string } | undefined;
  build(value: unknown): FieldTest;
}

const SINGLE = 'a single value (text, number, boolean or null)';

function scalarOrDate(value: unknown): value is Scalar | Date {
  return isScalar(value) || (value instanceof Date && !Number.isNaN(value.getTime()));
}

const needsSingle = (op: string) => (value: unknown) => {
  if (value === undefined) return { message: `operator "${op}" needs a value` };
  if (Array.isArray(value))
    return { message: `operator "${op}" needs ${SINGLE}, not an array; use "in" for a list` };
  return scalarOrDate(value)
    ? undefined
    : { message: `operator "${op}" needs ${SINGLE}, got ${describeValue(value)}` };
};

const needsList = (op: string) => (value: unknown) => {
  if (!Array.isArray(value)) {
    return { message: `operator "${op}" needs an array, e.g. [LEAD, CUSTOMER], got ${describeValue(value)}` };
  }
  const bad = value.findIndex((v) => !scalarOrDate(v));
  return bad < 0
    ? undefined
    : {
        path: `[${bad}]`,
        message: `operator "${op}" needs a list of texts, numbers, booleans or nulls, got ${describeValue(value[bad])}`,
      };
};

const needsText = (op: string) => (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? undefined
    : { message: `operator "${op}" needs text (or a number), got ${describeValue(value)}` };

const needsBound = (op: string) => (value: unknown) =>
  boundOf(value) === undefined
    ? {
        message: `operator "${op}" needs a number or an ISO 8601 date (2026-11-22), got ${describeValue(value)}`,
      }
    : undefined;

const needsNothing = (op: string) => (value: unknown) =>
  value === undefined || value === null ? undefined : { message: `operator "${op}" takes no value` };

function anyOf(list: readonly unknown[]): FieldTest {
  const tests = list.map((v) => equalsTo(v as Scalar | Date));
  const one = (actual: unknown) => tests.some((t) => t(actual));
  // On a list field (tags), "in" means: any element is one of the values.
  return (actual) => (Array.isArray(actual) ? actual.some(one) : one(actual));
}

function contains(needle: unknown): FieldTest {
  const lower = String(needle).toLowerCase();
  const equals = equalsTo(needle as Scalar);
  return (actual) => {
    if (typeof actual === 'string') return actual.toLowerCase().includes(lower);
    if (Array.isArray(actual)) {
      return actual.some((e) => (typeof e === 'string' ? e.toLowerCase() === lower : equals(e)));
    }
    return false;
  };
}

function ordered(value: unknown, holds: (actual: number, bound: number) => boolean): FieldTest {
  const bound = boundOf(value)!;
  return (actual) => {
    const n = readAs(bound, actual);
    return n !== undefined && holds(n, bound.value);
  };
}

const not =
  (test: FieldTest): FieldTest =>
  (actual) =>
    !test(actual);

export const OPERATORS: Record<FilterOperator, Operator> = {
  eq: { check: needsSingle('eq'), build: (v) => equalsTo(v as Scalar | Date) },
  neq: { check: needsSingle('neq'), build: (v) => not(equalsTo(v as Scalar | Date)) },
  in: { check: needsList('in'), build: (v) => anyOf(v as unknown[]) },
  not_in: { check: needsList('not_in'), build: (v) => not(anyOf(v as unknown[])) },
  contains: { check: needsText('contains'), build: contains },
  not_contains: { check: needsText('not_contains'), build: (v) => not(contains(v)) },
  starts_with: {
    check: needsText('starts_with'),
    build: (v) => {
      const prefix = String(v).toLowerCase();
      return (actual) => typeof actual === 'string' && actual.toLowerCase().startsWith(prefix);
    },
  },
  ends_with: {
    check: needsText('ends_with'),
    build: (v) => {
      const suffix = String(v).toLowerCase();
      return (actual) => typeof actual === 'string' && actual.toLowerCase().endsWith(suffix);
    },
  },
  gt: { check: needsBound('gt'), build: (v) => ordered(v, (a, b) => a > b) },
  gte: { check: needsBound('gte'), build: (v) => ordered(v, (a, b) => a >= b) },
  lt: { check: needsBound('lt'), build: (v) => ordered(v, (a, b) => a < b) },
  lte: { check: needsBound('lte'), build: (v) => ordered(v, (a, b) => a <= b) },
  exists: { check: needsNothing('exists'), build: () => (actual) => actual !== undefined && actual !== null },
  not_exists: {
    check: needsNothing('not_exists'),
    build: () => (actual) => actual === undefined || actual === null,
  },
  is_empty: { check: needsNothing('is_empty'), build: () => isEmpty },
  is_not_empty: { check: needsNothing('is_not_empty'), build: () => not(isEmpty) },
};
