import { describe, expect, it } from 'vitest';
import { compileFilter, evaluateFilter, FilterCompileError } from '../../src/filters/evaluate.js';
import type { FieldCondition, Filter, FilterOperator } from '../../src/filters/schema.js';

const contact = {
  id: 42,
  email: 'Ada@Example.com',
  status: 'ACTIVE',
  lifecycleStage: 'CUSTOMER',
  isIdentified: true,
  tags: ['vip', 'Beta'],
  properties: { mrr: 120, seats: '15', signedUpOn: '2026-03-01', note: '', empty: {} },
  companies: [{ name: 'Acme', isPrimary: true }],
  createdAt: '2026-11-22T10:30:00.000Z',
  lastActivityAt: new Date('2026-11-23T08:00:00.000Z'),
  phone: null,
};

function one(field: string, operator: FilterOperator, value?: unknown): Filter {
  const condition: FieldCondition = { type: 'field', field, operator, value };
  return { logic: 'AND', conditions: [condition] };
}

describe('filter operators', () => {
  it.each<[string, FilterOperator, unknown, boolean]>([
    // eq / neq: by value, text case-sensitive
    ['status', 'eq', 'ACTIVE', true],
    ['status', 'eq', 'active', false],
    ['id', 'eq', 42, true],
    ['id', 'eq', '42', true],
    ['properties.seats', 'eq', 15, true],
    ['isIdentified', 'eq', true, true],
    ['isIdentified', 'eq', 'true', true],
    ['createdAt', 'eq', '2026-11-22T11:30:00+01:00', true],
    ['lastActivityAt', 'eq', '2026-11-23T08:00:00Z', true],
    ['phone', 'eq', null, true],
    ['missing', 'eq', null, true],
    ['missing', 'eq', 'x', false],
    ['tags', 'eq', 'vip', false],
    ['status', 'neq', 'ARCHIVED', true],
    ['status', 'neq', 'ACTIVE', false],
    ['missing', 'neq', 'x', true],
    // in / not_in: any element of a list field
    ['lifecycleStage', 'in', ['LEAD', 'CUSTOMER'], true],
    ['lifecycleStage', 'in', ['LEAD'], false],
    ['id', 'in', ['41', '42'], true],
    ['tags', 'in', ['vip', 'gold'], true],
    ['tags', 'in', ['gold'], false],
    ['lifecycleStage', 'in', [], false],
    ['missing', 'in', ['x'], false],
    ['lifecycleStage', 'not_in', ['LEAD'], true],
    ['tags', 'not_in', ['vip'], false],
    ['missing', 'not_in', ['x'], true],
    // contains: substring of text, element of a list; case-insensitive both ways
    ['email', 'contains', 'example', true],
    ['email', 'contains', 'EXAMPLE.COM', true],
    ['email', 'contains', 'gmail', false],
    ['tags', 'contains', 'beta', true],
    ['tags', 'contains', 'bet', false],
    ['id', 'contains', 4, false],
    ['missing', 'contains', 'x', false],
    ['email', 'not_contains', 'gmail', true],
    ['tags', 'not_contains', 'VIP', false],
    ['missing', 'not_contains', 'x', true],
    // starts_with / ends_with: text only, case-insensitive
    ['email', 'starts_with', 'ada@', true],
    ['email', 'starts_with', 'bob', false],
    ['email', 'ends_with', '@EXAMPLE.COM', true],
    ['email', 'ends_with', '.org', false],
    ['tags', 'starts_with', 'vip', false],
    // gt / gte / lt / lte: numbers and numeric text
    ['properties.mrr', 'gt', 100, true],
    ['properties.mrr', 'gt', 120, false],
    ['properties.mrr', 'gte', 120, true],
    ['properties.mrr', 'lt', '200', true],
    ['properties.mrr', 'lte', 119.99, false],
    ['properties.seats', 'gte', 15, true],
    // ... and dates: ISO text against ISO text, a Date against ISO text
    ['createdAt', 'gt', '2026-11-22', true],
    ['createdAt', 'lt', '2026-11-22T10:30:00.001Z', true],
    ['createdAt', 'gte', '2026-11-23', false],
    ['properties.signedUpOn', 'lt', '2026-03-02T00:00:00Z', true],
    ['lastActivityAt', 'gt', '2026-11-23T07:59:59Z', true],
    ['lastActivityAt', 'lte', '2026-11-22', false],
    // ... type mismatches are false, not errors
    ['status', 'gt', 5, false],
    ['createdAt', 'gt', 5, false],
    ['properties.mrr', 'gt', '2026-01-01', false],
    ['missing', 'lt', 5, false],
    ['tags', 'gt', 0, false],
    // exists / not_exists: present and not null
    ['email', 'exists', undefined, true],
    ['phone', 'exists', undefined, false],
    ['missing', 'exists', null, false],
    ['properties.note', 'exists', undefined, true],
    ['phone', 'not_exists', undefined, true],
    ['email', 'not_exists', undefined, false],
    // is_empty / is_not_empty: missing, null, "", [], {}
    ['properties.note', 'is_empty', undefined, true],
    ['properties.empty', 'is_empty', undefined, true],
    ['phone', 'is_empty', undefined, true],
    ['missing', 'is_empty', undefined, true],
    ['tags', 'is_empty', undefined, false],
    ['lastActivityAt', 'is_empty', undefined, false],
    ['properties.mrr', 'is_empty', undefined, false],
    ['tags', 'is_not_empty', undefined, true],
    ['properties.note', 'is_not_empty', undefined, false],
    // paths reach into lists
    ['companies[0].name', 'eq', 'Acme', true],
    ['companies.0.isPrimary', 'eq', true, true],
  ])('%s %s %j is %s', (field, operator, value, expected) => {
    expect(evaluateFilter(one(field, operator, value), contact)).toBe(expected);
  });
});

describe('filter groups', () => {
  const active = { type: 'field', field: 'status', operator: 'eq', value: 'ACTIVE' } as const;
  const lead = { type: 'field', field: 'lifecycleStage', operator: 'eq', value: 'LEAD' } as const;
  const vip = { type: 'field', field: 'tags', operator: 'contains', value: 'vip' } as const;

  it.each<[string, Filter, boolean]>([
    ['AND holds when every condition holds', { logic: 'AND', conditions: [active, vip] }, true],
    ['AND fails when one condition fails', { logic: 'AND', conditions: [active, lead] }, false],
    ['OR holds when one condition holds', { logic: 'OR', conditions: [lead, vip] }, true],
    ['OR fails when no condition holds', { logic: 'OR', conditions: [lead] }, false],
    ['an empty AND holds (nothing fails)', { logic: 'AND', conditions: [] }, true],
    ['an empty OR fails (nothing holds)', { logic: 'OR', conditions: [] }, false],
    [
      'nested groups combine: ACTIVE and (LEAD or vip)',
      { logic: 'AND', conditions: [active, { type: 'group', logic: 'OR', conditions: [lead, vip] }] },
      true,
    ],
    [
      'nested groups combine: ACTIVE and (LEAD and vip)',
      { logic: 'AND', conditions: [active, { logic: 'AND', conditions: [lead, vip] }] },
      false,
    ],
    [
      'three levels deep',
      {
        logic: 'OR',
        conditions: [lead, { logic: 'AND', conditions: [{ logic: 'OR', conditions: [lead, vip] }, active] }],
      },
      true,
    ],
  ])('%s', (_name, filter, expected) => {
    expect(evaluateFilter(filter, contact)).toBe(expected);
  });

  it('treats a missing logic as AND', () => {
    const predicate = compileFilter({ conditions: [active, lead] } as unknown as Filter);
    expect(predicate(contact)).toBe(false);
    expect(predicate({ ...contact, lifecycleStage: 'LEAD' })).toBe(true);
  });
});

describe('compileFilter', () => {
  it('compiles once and tests many snapshots', () => {
    const predicate = compileFilter(one('properties.mrr', 'gte', 100));
    expect([50, 100, 150].map((mrr) => predicate({ properties: { mrr } }))).toEqual([false, true, true]);
  });

  it('throws every issue with paths under "filter"', () => {
    const bad = {
      logic: 'AND',
      conditions: [
        { type: 'field', field: 'status', operator: 'eq', value: 'ACTIVE' },
        { type: 'field', field: 'lifecycleStage', operator: 'in', value: 'LEAD' },
      ],
    } as Filter;
    expect(() => compileFilter(bad)).toThrow(FilterCompileError);
    expect(() => compileFilter(bad)).toThrow(
      'invalid filter: filter.conditions[1].value: operator "in" needs an array, e.g. [LEAD, CUSTOMER], got "LEAD"',
    );
  });

  it('does not read the prototype chain of a snapshot', () => {
    expect(evaluateFilter(one('constructor', 'exists'), {})).toBe(false);
  });
});
