import { z } from 'zod';
import { label, publicObject, typeOf, uniqueProperty } from './object-shapes.js';
import type { Route } from './route.js';
import { batchEnvelope, parseBody } from './route.js';
import { badRequest, errorBody, notFound } from './sandbox-errors.js';
import type { StoredObject } from './sandbox-store.js';

/** CRM objects v3 reads: batch read, merge, search, list and get. */

const batchRead: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>[\w-]+)\/batch\/read$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const body = parseBody(
      z.object({
        inputs: z.array(z.object({ id: z.string() })).max(100, 'at most 100 inputs per batch'),
        idProperty: z.string().optional(),
        properties: z.array(z.string()).default([]),
      }),
      ctx.body,
    );
    if (body.idProperty) uniqueProperty(ctx, type, body.idProperty);
    const found = body.inputs.map((i) =>
      body.idProperty ? ctx.store.findBy(type, body.idProperty, i.id)[0] : ctx.store.get(type, i.id),
    );
    // Only what was asked for, besides the ids and dates HubSpot always sends.
    const wanted = new Set(['hs_object_id', 'createdate', 'hs_lastmodifieddate', ...body.properties]);
    const results = found
      .filter((o): o is StoredObject => !!o)
      .map((o) => publicObject(o, undefined, { properties: pick(o.properties, wanted) }));
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

const merge: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/objects\/(?<type>contacts|companies)\/merge$/,
  handle(ctx) {
    const type = typeOf(ctx);
    const body = parseBody(z.object({ primaryObjectId: z.string(), objectIdToMerge: z.string() }), ctx.body);
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
    const request = parseBody(SearchRequest, ctx.body);
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
        results: page.map((o) => publicObject(o, undefined, { properties: pick(o.properties, wanted) })),
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

function pick(properties: Record<string, string>, wanted: Set<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).filter(([name]) => wanted.has(name)));
}

export const objectQueryRoutes: Route[] = [batchRead, merge, search, getPage, getOne];
