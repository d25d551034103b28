import { z } from 'zod';
import type { Route, RouteContext } from './route.js';
import { batchEnvelope } from './route.js';
import {
  badRequest,
  conflictError,
  errorBody,
  notFound,
  type PropertyProblem,
  propertyValidationError,
  SandboxHttpError,
} from './sandbox-errors.js';
import type { StoredObject } from './sandbox-store.js';

/** CRM objects v3: batch create/update/upsert/read/archive, merge, search, list. */

const Properties = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]).transform((v) => (v === null ? '' : String(v))),
);
const Association = z.object({
  to: z.object({ id: z.string() }),
  types: z.array(z.object({ associationCategory: z.string(), associationTypeId: z.number().int() })),
});
const CreateInput = z.object({
  properties: Properties,
  associations: z.array(Association).default([]),
  objectWriteTraceId: z.string().optional(),
});
const UpdateInput = z.object({
  id: z.string(),
  properties: Properties,
  idProperty: z.string().optional(),
  objectWriteTraceId: z.string().optional(),
});
const UpsertInput = z.object({
  id: z.string(),
  idProperty: z.string(),
  properties: Properties,
  objectWriteTraceId: z.string().optional(),
});
const Inputs = <T extends z.ZodType>(input: T) =>
  z.object({ inputs: z.array(input).max(100, 'at most 100 inputs per batch') });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(
      `Invalid input JSON: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

function typeOf(ctx: RouteContext): string {
  const type = ctx.params.type as string;
  if (!ctx.store.knows(type))
    throw new SandboxHttpError(
      400,
      errorBody('VALIDATION_ERROR', `Unable to infer object type from: ${type}`),
    );
  return type;
}

const LABEL: Record<string, string> = { contacts: 'Contact', companies: 'Company' };
const label = (type: string) => LABEL[type] ?? type.replace(/s$/, '').toUpperCase();

export function publicObject(o: StoredObject, traceId?: string, extra: Record<string, unknown> = {}) {
  return {
    id: o.id,
    properties: { ...o.properties },
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    archived: o.archived,
    ...(traceId ? { objectWriteTraceId: traceId } : {}),
    ...extra,
  };
}

/** The whole-batch error for the inputs' problems, as much of it as the behaviour says. */
function wholeBatchError(ctx: RouteContext, perInput: PropertyProblem[][]): SandboxHttpError {
  const bad = perInput.filter((p) => p.length > 0);
  if (ctx.behaviour.validationReport === 'none') {
    return new SandboxHttpError(400, errorBody('VALIDATION_ERROR', 'Some of the inputs were not valid'));
  }
  return propertyValidationError(ctx.behaviour.validationReport === 'all' ? bad.flat() : (bad[0] ?? []));
}

function problemsOf(ctx: RouteContext, type: string, properties: Record<string, string>): PropertyProblem[] {
  return [...ctx.store.validate(type, properties), ...ctx.faults.inputProblems(type, properties)];
}

function rejectDuplicates(ids: string[]): void {
  const seen = new Set<string>();
  const duplicates = ids.filter((id) => {
    if (seen.has(id)) return true;
    seen.add(id);
    return false;
  });
  if (duplicates.length > 0)
    throw badRequest(
      `Duplicate IDs found in batch input: [${[...new Set(duplicates)].join(', ')}]. IDs must be unique`,
    );
}

function uniqueProperty(ctx: RouteContext, type: string, name: string): void {
  const definition = ctx.store.properties[type]?.find((p) => p.name === name);
  if (!definition?.hasUniqueValue) {
    throw badRequest(
      `Unable to perform update/upsert by non-unique ${ctx.store.objectTypeId(type)} property ${name} in portal ID 1`,
    );
  }
}

function applyAssociations(
  ctx: RouteContext,
  type: string,
  object: StoredObject,
  associations: z.infer<typeof Association>[],
) {
  for (const a of associations) {
    const target = [...ctx.store.objects.entries()].find(
      ([, table]) => table.get(a.to.id) && !table.get(a.to.id)?.archived,
    );
    if (!target) throw badRequest(`Object ${a.to.id} does not exist: cannot associate`);
    ctx.store.associate(
      type,
      object.id,
      target[0],
      a.to.id,
      a.types.map((t) => t.associationTypeId),
    );
  }
}

const batchCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/create$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const { inputs } = parse(Inputs(CreateInput), ctx.body);
    const traceIds = inputs.map((i) => i.objectWriteTraceId);
    // HubSpot answers per input (207) only when every input carries its own trace id.
    const multiStatus = traceIds.every((t) => t) && new Set(traceIds).size === inputs.length;
    const verdicts = inputs.map((input) => {
      const problems = problemsOf(ctx, type, input.properties);
      const email = type === 'contacts' ? input.properties.email : undefined;
      const existing = email ? ctx.store.findBy('contacts', 'email', email)[0] : undefined;
      return { input, problems, existing };
    });
    if (!multiStatus) {
      const conflict = verdicts.find((v) => v.existing);
      if (verdicts.some((v) => v.problems.length > 0))
        throw wholeBatchError(
          ctx,
          verdicts.map((v) => v.problems),
        );
      if (conflict?.existing) throw conflictError(label(type), conflict.existing.id);
    }
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const { input, problems, existing } of verdicts) {
      const context = { objectWriteTraceId: [input.objectWriteTraceId as string] };
      if (problems.length > 0) {
        errors.push({
          ...errorBody('VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(problems)}`, {
            context,
          }),
          errors: [],
          links: {},
        });
      } else if (existing) {
        errors.push({
          ...errorBody('CONFLICT', `${label(type)} already exists. Existing ID: ${existing.id}`, { context }),
          errors: [],
          links: {},
        });
      } else {
        const object = ctx.store.create(type, input.properties);
        applyAssociations(ctx, type, object, input.associations);
        results.push(publicObject(object, input.objectWriteTraceId));
      }
    }
    return { status: errors.length > 0 ? 207 : 201, body: batchEnvelope(results, errors) };
  },
};

const batchUpdate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/update$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const { inputs } = parse(Inputs(UpdateInput), ctx.body);
    for (const input of inputs) if (input.idProperty) uniqueProperty(ctx, type, input.idProperty);
    rejectDuplicates(inputs.map((i) => i.id));
    const targets = inputs.map((i) =>
      i.idProperty ? ctx.store.findBy(type, i.idProperty, i.id)[0] : ctx.store.get(type, i.id),
    );
    const missing = inputs.filter((_, k) => !targets[k]).map((i) => i.id);
    if (missing.length > 0) {
      throw notFound(
        `Could not get some ${label(type).toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
        { ids: missing },
      );
    }
    const problems = inputs.map((i) => problemsOf(ctx, type, i.properties));
    if (problems.some((p) => p.length > 0)) throw wholeBatchError(ctx, problems);
    const results = inputs.map((input, k) =>
      publicObject(ctx.store.update(targets[k] as StoredObject, input.properties), input.objectWriteTraceId),
    );
    return { status: 200, body: batchEnvelope(results) };
  },
};

const batchUpsert: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/upsert$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const { inputs } = parse(Inputs(UpsertInput), ctx.body);
    for (const input of inputs) uniqueProperty(ctx, type, input.idProperty);
    rejectDuplicates(inputs.map((i) => i.id.toLowerCase()));
    const existing = inputs.map((i) => ctx.store.findBy(type, i.idProperty, i.id)[0]);
    const lagging = inputs.findIndex(
      (i, k) => existing[k] && ctx.faults.conflictOnUpsert.has(i.id.toLowerCase()),
    );
    if (lagging >= 0) {
      ctx.faults.conflictOnUpsert.delete((inputs[lagging] as { id: string }).id.toLowerCase());
      throw conflictError(label(type), (existing[lagging] as StoredObject).id);
    }
    const problems = inputs.map((i) => problemsOf(ctx, type, { ...i.properties, [i.idProperty]: i.id }));
    if (problems.some((p) => p.length > 0)) throw wholeBatchError(ctx, problems);
    const results = inputs.map((input, k) => {
      const found = existing[k];
      const object = found
        ? ctx.store.update(found, input.properties)
        : ctx.store.create(type, { ...input.properties, [input.idProperty]: input.id });
      return publicObject(object, input.objectWriteTraceId, { new: !found });
    });
    return { status: 200, body: batchEnvelope(results) };
  },
};

const batchRead: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/read$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const body = parse(
      z.object({
        inputs: z.array(z.object({ id: z.string() })),
        idProperty: z.string().optional(),
        properties: z.array(z.string()).default([]),
      }),
      ctx.body,
    );
    if (body.idProperty) uniqueProperty(ctx, type, body.idProperty);
    const found = body.inputs.map((i) =>
      body.idProperty ? ctx.store.findBy(type, body.idProperty, i.id)[0] : ctx.store.get(type, i.id),
    );
    const results = found.filter((o): o is StoredObject => !!o).map((o) => publicObject(o));
    const missing = body.inputs.filter((_, k) => !found[k]).map((i) => i.id);
    const errors = missing.length
      ? [
          {
            ...errorBody(
              'OBJECT_NOT_FOUND',
              `Could not get some ${label(type).toUpperCase()} objects, they may be deleted or not exist.`,
              { context: { ids: missing } },
            ),
            errors: [],
            links: {},
          },
        ]
      : [];
    return { status: errors.length ? 207 : 200, body: batchEnvelope(results, errors) };
  },
};

const batchArchive: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/archive$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const { inputs } = parse(Inputs(z.object({ id: z.string() })), ctx.body);
    for (const input of inputs) ctx.store.archive(type, input.id);
    return { status: 204 };
  },
};

const merge: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>contacts|companies)\/merge$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const body = parse(z.object({ primaryObjectId: z.string(), objectIdToMerge: z.string() }), ctx.body);
    if (body.primaryObjectId === body.objectIdToMerge) throw badRequest('Cannot merge an object with itself');
    const primary = ctx.store.get(type, body.primaryObjectId);
    const loser = ctx.store.get(type, body.objectIdToMerge);
    if (!primary || !loser) {
      throw notFound(
        `Could not merge: ${!primary ? body.primaryObjectId : body.objectIdToMerge} does not exist`,
        {
          ids: [!primary ? body.primaryObjectId : body.objectIdToMerge],
        },
      );
    }
    return { status: 200, body: publicObject(ctx.store.merge(type, primary, loser)) };
  },
};

const Filter = z.object({
  propertyName: z.string(),
  operator: z.enum(['EQ', 'NEQ', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY']),
  value: z.string().optional(),
  values: z.array(z.string()).optional(),
});
const SearchRequest = z.object({
  filterGroups: z
    .array(z.object({ filters: z.array(Filter) }))
    .max(5)
    .default([]),
  properties: z.array(z.string()).default([]),
  sorts: z.array(z.unknown()).default([]),
  limit: z.number().int().min(1).max(200).default(10),
  after: z.string().default('0'),
});

function matches(object: StoredObject, filter: z.infer<typeof Filter>): boolean {
  const value = (object.properties[filter.propertyName] ?? '').toLowerCase();
  const wanted = (filter.values ?? [filter.value ?? '']).map((v) => v.toLowerCase());
  switch (filter.operator) {
    case 'EQ':
    case 'IN':
      return value !== '' && wanted.includes(value);
    case 'NEQ':
    case 'NOT_IN':
      return !wanted.includes(value);
    case 'HAS_PROPERTY':
      return value !== '';
    case 'NOT_HAS_PROPERTY':
      return value === '';
  }
}

const search: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/search$/,
  kind: 'search',
  handle(ctx) {
    const type = typeOf(ctx);
    const request = parse(SearchRequest, ctx.body);
    const visibleBefore = Date.now() - ctx.behaviour.searchIndexLagMs;
    const hits = ctx.store
      .all(type)
      .filter((o) => Date.parse(o.createdAt) <= visibleBefore)
      .filter(
        (o) =>
          request.filterGroups.length === 0 ||
          request.filterGroups.some((g) => g.filters.every((f) => matches(o, f))),
      )
      .sort((a, b) => Number(a.id) - Number(b.id));
    const offset = Number(request.after) || 0;
    const page = hits.slice(offset, offset + request.limit);
    const wanted = new Set(['hs_object_id', 'createdate', 'hs_lastmodifieddate', ...request.properties]);
    return {
      status: 200,
      body: {
        total: hits.length,
        results: page.map((o) => ({
          ...publicObject(o),
          properties: Object.fromEntries(Object.entries(o.properties).filter(([k]) => wanted.has(k))),
        })),
        ...(offset + request.limit < hits.length
          ? { paging: { next: { after: String(offset + request.limit) } } }
          : {}),
      },
    };
  },
};

const getPage: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const limit = Math.min(100, Number(ctx.query.get('limit') ?? 10) || 10);
    const offset = Number(ctx.query.get('after') ?? 0) || 0;
    const all = ctx.store.all(type).sort((a, b) => Number(a.id) - Number(b.id));
    return {
      status: 200,
      body: {
        results: all.slice(offset, offset + limit).map((o) => publicObject(o)),
        ...(offset + limit < all.length ? { paging: { next: { after: String(offset + limit) } } } : {}),
      },
    };
  },
};

const getOne: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/(?<id>\d+)$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const object = ctx.store.get(type, ctx.params.id as string);
    if (!object) throw notFound(`Object not found.  objectId are usually numeric.`);
    return { status: 200, body: publicObject(object) };
  },
};

export const objectRoutes: Route[] = [
  batchCreate,
  batchUpdate,
  batchUpsert,
  batchRead,
  batchArchive,
  merge,
  search,
  getPage,
  getOne,
];
