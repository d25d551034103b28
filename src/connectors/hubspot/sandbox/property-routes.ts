import { z } from 'zod';
import type { Route, RouteContext } from './route.js';
import { batchEnvelope, nowIso, parseBody } from './route.js';
import { badRequest, errorBody, notFound, SandboxHttpError } from './sandbox-errors.js';
import type { SandboxProperty } from './sandbox-properties.js';

/** Properties v3: the catalog, property creation and property groups. */

function catalogOf(ctx: RouteContext): SandboxProperty[] {
  const type = ctx.params.type as string;
  const catalog = ctx.store.properties[type];
  if (!catalog)
    throw new SandboxHttpError(
      400,
      errorBody('VALIDATION_ERROR', `Unable to infer object type from: ${type}`),
    );
  return catalog;
}

const propertiesAll: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/properties\/(?<type>[\w-]+)$/,
  handle: (ctx) => ({ status: 200, body: { results: catalogOf(ctx).filter((p) => !p.archived) } }),
};

const PropertyCreate = z.object({
  name: z.string(),
  label: z.string().min(1),
  type: z.enum(['string', 'number', 'date', 'datetime', 'enumeration', 'bool']),
  fieldType: z.string(),
  groupName: z.string(),
  options: z.array(z.object({ label: z.string(), value: z.string() })).default([]),
});

function createProperty(ctx: RouteContext, input: z.infer<typeof PropertyCreate>): SandboxProperty {
  const catalog = catalogOf(ctx);
  if (!/^[a-z][a-z0-9_]*$/.test(input.name)) {
    throw badRequest(
      `Property name "${input.name}" is invalid: use lowercase letters, digits and underscores, starting with a letter`,
    );
  }
  if (catalog.some((p) => p.name === input.name)) {
    throw new SandboxHttpError(
      409,
      errorBody('OBJECT_ALREADY_EXISTS', `A property named "${input.name}" already exists.`),
    );
  }
  const groups = ctx.store.groups.get(ctx.params.type as string);
  if (!groups?.has(input.groupName) && input.groupName !== 'information') {
    throw badRequest(`Property group ${input.groupName} does not exist`);
  }
  const now = nowIso();
  const property: SandboxProperty = {
    ...input,
    description: '',
    options: input.options.map((o, displayOrder) => ({ ...o, hidden: false, displayOrder })),
    hasUniqueValue: false,
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    hubspotDefined: false,
    createdAt: now,
    updatedAt: now,
  };
  catalog.push(property);
  return property;
}

const propertiesCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/properties\/(?<type>[\w-]+)\/batch\/create$/,
  handle(ctx) {
    const { inputs } = parseBody(z.object({ inputs: z.array(PropertyCreate) }), ctx.body);
    return { status: 201, body: batchEnvelope(inputs.map((input) => createProperty(ctx, input))) };
  },
};

const propertyCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/properties\/(?<type>[\w-]+)$/,
  handle: (ctx) => ({ status: 201, body: createProperty(ctx, parseBody(PropertyCreate, ctx.body)) }),
};

const groupByName: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/properties\/(?<type>[\w-]+)\/groups\/(?<name>[\w-]+)$/,
  handle(ctx) {
    catalogOf(ctx);
    const group = ctx.store.groups.get(ctx.params.type as string)?.get(ctx.params.name as string);
    if (!group) throw notFound(`Unable to find property group ${ctx.params.name}`);
    return { status: 200, body: group };
  },
};

const groupCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/properties\/(?<type>[\w-]+)\/groups$/,
  handle(ctx) {
    catalogOf(ctx);
    const body = parseBody(
      z.object({
        name: z.string().min(1),
        label: z.string().min(1),
        displayOrder: z.number().int().default(-1),
      }),
      ctx.body,
    );
    const type = ctx.params.type as string;
    const groups = ctx.store.groups.get(type) ?? new Map();
    if (groups.has(body.name))
      throw new SandboxHttpError(
        409,
        errorBody('OBJECT_ALREADY_EXISTS', `Group ${body.name} already exists`),
      );
    const group = { ...body, archived: false };
    groups.set(body.name, group);
    ctx.store.groups.set(type, groups);
    return { status: 201, body: group };
  },
};

export const propertyRoutes: Route[] = [
  propertiesAll,
  propertiesCreate,
  propertyCreate,
  groupByName,
  groupCreate,
];
