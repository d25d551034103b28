import { z } from 'zod';
import { typeOf } from './object-shapes.js';
import type { Route } from './route.js';
import { batchEnvelope, parseBody } from './route.js';
import { errorBody } from './sandbox-errors.js';

/** Associations v4: batch create and archive, and one record's associations of a type (paged). */

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
    const { inputs } = parseBody(
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
    const { inputs } = parseBody(
      z.object({ inputs: z.array(z.object({ from: Id, to: z.array(Id) })) }),
      ctx.body,
    );
    for (const input of inputs)
      for (const target of input.to) ctx.store.dissociate(from, input.from.id, to, target.id);
    return { status: 204 };
  },
};

/** The v4 listing's most per page: "Limit 500 per call" (associations-v4.json, getPage). */
const LIST_LIMIT = 500;

/**
 * One record's associations of a type, paged with `after` (an opaque cursor at HubSpot, an
 * offset here). Listed by ascending id: HubSpot documents no order. `toObjectId` is a number as
 * HubSpot sends it, although its OpenAPI document says string.
 */
const associationsOf: Route = {
  method: 'GET',
  pattern: /^\/crm\/v4\/objects\/(?<type>[\w-]+)\/(?<id>\d+)\/associations\/(?<to>[\w-]+)$/,
  handle(ctx) {
    const { id } = ctx.params as { id: string };
    const type = typeOf(ctx);
    const to = typeOf({ ...ctx, params: { type: ctx.params.to as string } });
    const limit = Math.min(LIST_LIMIT, Number(ctx.query.get('limit') ?? LIST_LIMIT) || LIST_LIMIT);
    const offset = Number(ctx.query.get('after') ?? 0) || 0;
    const all = ctx.store
      .associated(type, id, to)
      .filter((a) => ctx.store.get(to, a.id))
      .sort((a, b) => Number(a.id) - Number(b.id));
    const next = offset + limit < all.length ? String(offset + limit) : null;
    return {
      status: 200,
      body: {
        results: all.slice(offset, offset + limit).map((a) => ({
          toObjectId: Number(a.id),
          associationTypes: a.types.map((typeId) => ({
            category: 'HUBSPOT_DEFINED',
            typeId,
            label: typeId === 1 || typeId === 2 ? 'Primary' : null,
          })),
        })),
        ...(next ? { paging: { next: { after: next, link: `?after=${next}` } } } : {}),
      },
    };
  },
};

export const associationRoutes: Route[] = [associationsCreate, associationsArchive, associationsOf];
