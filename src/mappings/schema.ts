import { z } from 'zod';

/**
 * The field-mapping language admins write (CONTRACT §2). Only the shape lives here; the
 * transform names are checked by the compiler, which knows the registry and suggests
 * near-misses ("did you mean …").
 */

/** A transform step: `lowercase`, or a parameterised one like `{ join: ";" }`. */
export const TransformStep = z.union([
  z.string().min(1),
  z.record(z.string(), z.unknown()).refine((o) => Object.keys(o).length === 1, {
    message: 'a parameterised transform is an object with exactly one key, e.g. { join: ";" }',
  }),
]);
export type TransformStep = z.infer<typeof TransformStep>;

export const FieldDirection = z.enum(['push', 'pull', 'both']);
export type FieldDirection = z.infer<typeof FieldDirection>;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const FieldMapping = z
  .object({
    /** Dot path into the CRM snapshot (`email`, `properties.mrr`, `companies[0].name`). */
    source: z.string().min(1).optional(),
    /** The provider field (HubSpot property, Mailchimp merge tag, webhook payload key). */
    target: z.string().min(1),
    direction: FieldDirection.default('push'),
    /** A constant value, instead of a source. */
    value: z.unknown().optional(),
    /** A `{{path}}` template over the snapshot, instead of a source. */
    template: z.string().optional(),
    /** Value map CRM → provider; inverted for pulls. */
    map: z.record(z.string(), Scalar).optional(),
    /** Used when the value is missing or has no entry in `map`. */
    default: z.unknown().optional(),
    transform: z.array(TransformStep).default([]),
    /** Send `null` when the source is missing, instead of leaving the field out. */
    sendNull: z.boolean().default(false),
  })
  .strict()
  .refine((f) => [f.source, f.value, f.template].filter((x) => x !== undefined).length <= 1, {
    message: 'a field takes at most one of source, value and template',
  })
  .refine((f) => f.source !== undefined || f.value !== undefined || f.template !== undefined, {
    message: 'a field needs one of source, value or template',
  });
export type FieldMapping = z.infer<typeof FieldMapping>;
export type FieldMappingInput = z.input<typeof FieldMapping>;

export const EntityMapping = z
  .object({
    /** The CRM field that finds a provider record when there is no link yet. */
    match: z.string().min(1).optional(),
    fields: z.array(FieldMapping).default([]),
  })
  .strict();
export type EntityMapping = z.infer<typeof EntityMapping>;
export type EntityMappingInput = z.input<typeof EntityMapping>;

export const ListMapping = z
  .object({
    crmListId: z.union([z.string(), z.number()]).transform(String),
    /** Provider list id or name (HubSpot static list, Mailchimp tag/segment); created when absent. */
    target: z.string().min(1),
  })
  .strict();
export type ListMapping = z.infer<typeof ListMapping>;

export const Mappings = z
  .object({
    contact: EntityMapping.optional(),
    company: EntityMapping.optional(),
    activity: EntityMapping.optional(),
    lists: z.array(ListMapping).optional(),
  })
  .strict();
export type Mappings = z.infer<typeof Mappings>;
export type MappingsInput = z.input<typeof Mappings>;
