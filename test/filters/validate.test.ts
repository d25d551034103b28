import { describe, expect, it } from 'vitest';
import { validateFilter } from '../../src/filters/evaluate.js';

const OPERATORS =
  'eq, neq, in, not_in, contains, not_contains, starts_with, ends_with, gt, gte, lt, lte, exists, not_exists, is_empty, is_not_empty';

function withCondition(condition: Record<string, unknown>) {
  return {
    logic: 'AND',
    conditions: [{ type: 'field', field: 'status', operator: 'eq', value: 'ACTIVE' }, condition],
  };
}

describe('validateFilter', () => {
  it('finds nothing wrong with the contract example', () => {
    expect(
      validateFilter({
        logic: 'AND',
        conditions: [
          { type: 'field', field: 'status', operator: 'eq', value: 'ACTIVE' },
          { type: 'field', field: 'lifecycleStage', operator: 'in', value: ['LEAD', 'CUSTOMER'] },
        ],
      }),
    ).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'in without an array',
      { type: 'field', field: 'x', operator: 'in', value: 'LEAD' },
      'conditions[1].value',
      'operator "in" needs an array, e.g. [LEAD, CUSTOMER], got "LEAD"',
    ],
    [
      'not_in with an object in the list',
      { type: 'field', field: 'x', operator: 'not_in', value: ['a', { b: 1 }] },
      'conditions[1].value[1]',
      'operator "not_in" needs a list of texts, numbers, booleans or nulls, got an object',
    ],
    [
      'eq with a list',
      { type: 'field', field: 'x', operator: 'eq', value: ['a'] },
      'conditions[1].value',
      'operator "eq" needs a single value (text, number, boolean or null), not an array; use "in" for a list',
    ],
    [
      'eq without a value',
      { type: 'field', field: 'x', operator: 'eq' },
      'conditions[1].value',
      'operator "eq" needs a value',
    ],
    [
      'neq with an object',
      { type: 'field', field: 'x', operator: 'neq', value: { a: 1 } },
      'conditions[1].value',
      'operator "neq" needs a single value (text, number, boolean or null), got an object',
    ],
    [
      'contains with null',
      { type: 'field', field: 'x', operator: 'contains', value: null },
      'conditions[1].value',
      'operator "contains" needs text (or a number), got null',
    ],
    [
      'starts_with with a list',
      { type: 'field', field: 'x', operator: 'starts_with', value: ['a'] },
      'conditions[1].value',
      'operator "starts_with" needs text (or a number), got an array of 1',
    ],
    [
      'gt with words',
      { type: 'field', field: 'x', operator: 'gt', value: 'soon' },
      'conditions[1].value',
      'operator "gt" needs a number or an ISO 8601 date (2026-11-22), got "soon"',
    ],
    [
      'lte with a date that does not exist',
      { type: 'field', field: 'x', operator: 'lte', value: '2026-02-30' },
      'conditions[1].value',
      'operator "lte" needs a number or an ISO 8601 date (2026-11-22), got "2026-02-30"',
    ],
    [
      'exists with a value',
      { type: 'field', field: 'x', operator: 'exists', value: true },
      'conditions[1].value',
      'operator "exists" takes no value',
    ],
    [
      'is_empty with a value',
      { type: 'field', field: 'x', operator: 'is_empty', value: '' },
      'conditions[1].value',
      'operator "is_empty" takes no value',
    ],
    [
      'a misspelt operator',
      { type: 'field', field: 'x', operator: 'not_exist' },
      'conditions[1].operator',
      `unknown operator "not_exist" (did you mean "not_exists"?); allowed: ${OPERATORS}`,
    ],
    [
      'a missing operator',
      { type: 'field', field: 'x' },
      'conditions[1].operator',
      `unknown operator nothing; allowed: ${OPERATORS}`,
    ],
    [
      'a malformed field path',
      { type: 'field', field: 'tags[', operator: 'exists' },
      'conditions[1].field',
      'invalid path "tags[": "[" at position 4 is never closed',
    ],
    [
      'a field that is not text',
      { type: 'field', field: 3, operator: 'exists' },
      'conditions[1].field',
      'needs a dot path, got 3',
    ],
    [
      'a condition without type',
      { field: 'x', operator: 'exists' },
      'conditions[1].type',
      'a condition has type "field" (a group has "conditions"), got nothing',
    ],
    [
      'an unknown key',
      { type: 'field', field: 'x', operator: 'exists', valeu: 1 },
      'conditions[1].valeu',
      'unknown key "valeu" (did you mean "value"?); allowed: type, field, operator, value',
    ],
    [
      'a group with bad logic',
      { logic: 'XOR', conditions: [] },
      'conditions[1].logic',
      'logic is AND or OR, got "XOR"',
    ],
    [
      'a group without a list of conditions',
      { logic: 'OR', conditions: 'all' },
      'conditions[1].conditions',
      'conditions must be an array, got "all"',
    ],
  ])('reports %s', (_name, condition, path, message) => {
    expect(validateFilter(withCondition(condition))).toEqual([{ path, message }]);
  });

  it('reports problems deep in nested groups with their full path', () => {
    const issues = validateFilter({
      logic: 'OR',
      conditions: [{ logic: 'AND', conditions: [{ type: 'field', field: 'x', operator: 'in', value: 1 }] }],
    });
    expect(issues.map((i) => i.path)).toEqual(['conditions[0].conditions[0].value']);
  });

  it('reports every problem at once', () => {
    const issues = validateFilter({
      logic: 'AND',
      conditions: [
        { type: 'field', field: 'a', operator: 'eqq', value: 1 },
        { type: 'field', field: 'b', operator: 'in', value: 'x' },
        5,
      ],
    });
    expect(issues).toEqual([
      {
        path: 'conditions[0].operator',
        message: `unknown operator "eqq" (did you mean "eq"?); allowed: ${OPERATORS}`,
      },
      {
        path: 'conditions[1].value',
        message: 'operator "in" needs an array, e.g. [LEAD, CUSTOMER], got "x"',
      },
      { path: 'conditions[2]', message: 'expected a condition or a group, got 5' },
    ]);
  });

  it('rejects a filter that is not a group', () => {
    expect(validateFilter([])).toEqual([
      { path: '', message: 'a filter is a group { logic, conditions }, got an array of 0' },
    ]);
  });
});
