import { z } from 'zod';

/** The CRM's JSON filter format (CQL JSON): AND/OR groups of field conditions, nestable. */
export const FILTER_OPERATORS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'not_exists',
  'is_empty',
  'is_not_empty',
] as const;
export const FilterOperator = z.enum(FILTER_OPERATORS);
export type FilterOperator = z.infer<typeof FilterOperator>;

export const FilterLogic = z.enum(['AND', 'OR']);

export const FieldCondition = z
  .object({
    type: z.literal('field'),
    /** Dot path into the snapshot, as in mappings. */
    field: z.string().min(1),
    operator: FilterOperator,
    value: z.unknown().optional(),
  })
  .strict();
export type FieldCondition = z.infer<typeof FieldCondition>;

export interface FilterGroup {
  type?: 'group' | undefined;
  logic: 'AND' | 'OR';
  conditions: (FieldCondition | FilterGroup)[];
}

export const FilterGroup: z.ZodType<FilterGroup> = z.lazy(() =>
  z
    .object({
      type: z.literal('group').optional(),
      logic: FilterLogic.default('AND'),
      conditions: z.array(z.union([FieldCondition, FilterGroup])),
    })
    .strict(),
) as z.ZodType<FilterGroup>;

export const Filter = FilterGroup;
export type Filter = FilterGroup;
