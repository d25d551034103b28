import { z } from 'zod';
import type { Route, RouteContext } from './route.js';
import { batchEnvelope, nowIso } from './route.js';
import { badRequest, errorBody, notFound, SandboxHttpError } from './sandbox-errors.js';
import type { SandboxProperty } from './sandbox-properties.js';
import type { StoredList } from './sandbox-store.js';

/** Associations v4, Lists v3 and Properties v3. */

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

const Id = z.object({ id: z.string() });
const AssociationSpec = z.object({
  associationCategory: z.enum(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED', 'WORK']),
  associationTypeId: z.number().int(),
});

const associationsCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v4\/associations\/(?<from>[\w-]+)\/(?<to>[\w-]+)\/batch\/create$/,
  handle(ctx) {
    const { from, to } = ctx.params as { from: string; to: string };
    const { inputs } = parse(
      z.object({ inputs: z.array(z.object({ from: Id, to: Id, types: z.array(AssociationSpec).min(1) })) }),
      ctx.body,
    );
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const missing = [
        ctx.store.get(from, input.from.id) ? null : input.from.id,
        ctx.store.get(to, input.to.id) ? null : input.to.id,
      ].filter((v): v is string => v !== null);
      if (missing.length > 0) {
        errors.push({
          ...errorBody(
            'VALIDATION_ERROR',
            `No ${missing.length > 1 ? 'objects' : 'object'} with ID ${missing.join(', ')}`,
            {
              context: { fromObjectId: [input.from.id], toObjectId: [input.to.id] },
            },
          ),
          errors: [],
          links: {},
        });
        continue;
      }
      ctx.store.associate(
        from,
        input.from.id,
        to,
        input.to.id,
        input.types.map((t) => t.associationTypeId),
      );
      results.push({
        fromObjectTypeId: ctx.store.objectTypeId(from),
        fromObjectId: input.from.id,
        toObjectTypeId: ctx.store.objectTypeId(to),
        toObjectId: input.to.id,
        labels: [],
      });
    }
    return { status: errors.length > 0 ? 207 : 201, body: batchEnvelope(results, errors) };
  },
};

const associationsArchive: Route = {
  method: 'POST',
  pattern: /^\/crm\/v4\/associations\/(?<from>[\w-]+)\/(?<to>[\w-]+)\/batch\/archive$/,
  handle(ctx) {
    const { from, to } = ctx.params as { from: string; to: string };
    const { inputs } = parse(
      z.object({ inputs: z.array(z.object({ from: Id, to: z.array(Id) })) }),
      ctx.body,
    );
    for (const input of inputs)
      for (const target of input.to) ctx.store.dissociate(from, input.from.id, to, target.id);
    return { status: 204 };
  },
};

const associationsOf: Route = {
  method: 'GET',
  pattern: /^\/crm\/v4\/objects\/(?<type>[\w-]+)\/(?<id>\d+)\/associations\/(?<to>[\w-]+)$/,
  handle(ctx) {
    const { type, id, to } = ctx.params as { type: string; id: string; to: string };
    return {
      status: 200,
      body: {
        results: ctx.store.associated(type, id, to).map((a) => ({
          toObjectId: Number(a.id),
          associationTypes: a.types.map((typeId) => ({
            category: 'HUBSPOT_DEFINED',
            typeId,
            label: typeId === 1 ? 'Primary' : null,
          })),
        })),
      },
    };
  },
};

function publicList(list: StoredList) {
  return {
    listId: list.listId,
    listVersion: 1,
    name: list.name,
    objectTypeId: list.objectTypeId,
    processingStatus: 'COMPLETE',
    processingType: list.processingType,
    createdAt: list.createdAt,
    updatedAt: list.createdAt,
    size: list.members.size,
  };
}

function listOf(ctx: RouteContext): StoredList {
  const list = ctx.store.lists.get(ctx.params.listId as string);
  if (!list) throw notFound(`List does not exist with ID ${ctx.params.listId}.`);
  return list;
}

const listCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/lists$/,
  handle(ctx) {
    const body = parse(
      z.object({
        name: z.string().min(1),
        objectTypeId: z.string(),
        processingType: z.enum(['MANUAL', 'DYNAMIC', 'SNAPSHOT']),
      }),
      ctx.body,
    );
    if ([...ctx.store.lists.values()].some((l) => l.name === body.name)) {
      throw new SandboxHttpError(
        409,
        errorBody('OBJECT_ALREADY_EXISTS', `A list named "${body.name}" already exists.`),
      );
    }
    return {
      status: 200,
      body: { list: publicList(ctx.store.createList(body.name, body.objectTypeId, body.processingType)) },
    };
  },
};

const listByName: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/lists\/object-type-id\/(?<objectTypeId>[\w-]+)\/name\/(?<name>[^/]+)$/,
  handle(ctx) {
    const name = decodeURIComponent(ctx.params.name as string);
    const list = [...ctx.store.lists.values()].find(
      (l) => l.name === name && l.objectTypeId === ctx.params.objectTypeId,
    );
    if (!list) throw notFound(`List does not exist with name ${name}.`);
    return { status: 200, body: { list: publicList(list) } };
  },
};

const listById: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/lists\/(?<listId>\d+)$/,
  handle: (ctx) => ({ status: 200, body: { list: publicList(listOf(ctx)) } }),
};

function membershipChange(add: boolean): Route {
  return {
    method: 'PUT',
    pattern: new RegExp(`^/crm/v3/lists/(?<listId>\\d+)/memberships/${add ? 'add' : 'remove'}$`),
    handle(ctx) {
      const list = listOf(ctx);
      const ids = parse(z.array(z.string()), ctx.body);
      if (list.processingType === 'DYNAMIC')
        throw badRequest(`List ${list.listId} is a dynamic list: its memberships cannot be changed`);
      const type = list.objectTypeId === '0-2' ? 'companies' : 'contacts';
      const missing = ids.filter((id) => !ctx.store.get(type, id));
      const present = ids.filter((id) => ctx.store.get(type, id));
      for (const id of present) add ? list.members.add(id) : list.members.delete(id);
      return {
        status: 200,
        body: {
          recordsIdsAdded: add ? present : [],
          recordIdsRemoved: add ? [] : present,
          recordIdsMissing: missing,
        },
      };
    },
  };
}

const listMembers: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/lists\/(?<listId>\d+)\/memberships$/,
  handle(ctx) {
    const list = listOf(ctx);
    return {
      status: 200,
      body: { results: [...list.members].map((recordId) => ({ recordId, membershipTimestamp: nowIso() })) },
    };
  },
};

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
    const { inputs } = parse(z.object({ inputs: z.array(PropertyCreate) }), ctx.body);
    return { status: 201, body: batchEnvelope(inputs.map((input) => createProperty(ctx, input))) };
  },
};

const propertyCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/properties\/(?<type>[\w-]+)$/,
  handle: (ctx) => ({ status: 201, body: createProperty(ctx, parse(PropertyCreate, ctx.body)) }),
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
    const body = parse(
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

export const otherRoutes: Route[] = [
  associationsCreate,
  associationsArchive,
  associationsOf,
  listCreate,
  listByName,
  listById,
  membershipChange(true),
  membershipChange(false),
  listMembers,
  propertiesAll,
  propertiesCreate,
  propertyCreate,
  groupByName,
  groupCreate,
];
