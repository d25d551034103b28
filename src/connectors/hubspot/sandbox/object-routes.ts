import { z } from 'zod';
import { label, publicObject, typeOf, uniqueProperty } from './object-shapes.js';
import type { Route, RouteContext } from './route.js';
import { batchEnvelope, parseBody } from './route.js';
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

/** CRM objects v3 writes: batch create, update, upsert and archive. */

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

/**
 * The store type of each association's target. Checked for every input before anything is
 * created: HubSpot creates an input together with its associations or not at all, so a record
 * never exists without the associations its create carried.
 */
function associationTargets(ctx: RouteContext, associations: z.infer<typeof Association>[]): string[] {
  return associations.map((a) => {
    const target = [...ctx.store.objects.entries()].find(
      ([, table]) => table.get(a.to.id) && !table.get(a.to.id)?.archived,
    );
    if (!target) throw badRequest(`Object ${a.to.id} does not exist: cannot associate`);
    return target[0];
  });
}

const batchCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/create$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const { inputs } = parseBody(Inputs(CreateInput), ctx.body);
    const traceIds = inputs.map((i) => i.objectWriteTraceId);
    // HubSpot answers per input (207) only when every input carries its own trace id.
    const multiStatus = traceIds.every((t) => t) && new Set(traceIds).size === inputs.length;
    const targets = inputs.map((input) => associationTargets(ctx, input.associations));
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
    for (const [k, { input, problems, existing }] of verdicts.entries()) {
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
        input.associations.forEach((a, n) => {
          ctx.store.associate(
            type,
            object.id,
            targets[k]![n]!,
            a.to.id,
            a.types.map((t) => t.associationTypeId),
          );
        });
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
    const { inputs } = parseBody(Inputs(UpdateInput), ctx.body);
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
    const { inputs } = parseBody(Inputs(UpsertInput), ctx.body);
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

const batchArchive: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/archive$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const { inputs } = parseBody(Inputs(z.object({ id: z.string() })), ctx.body);
    for (const input of inputs) ctx.store.archive(type, input.id);
    return { status: 204 };
  },
};

export const objectRoutes: Route[] = [batchCreate, batchUpdate, batchUpsert, batchArchive];
