import { z } from 'zod';
import type { Route } from './route.js';
import { batchEnvelope, parseBody } from './route.js';
import { errorBody } from './sandbox-errors.js';

/** Associations v4: batch create and archive, and one record's associations (for inspection). */

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

export const associationRoutes: Route[] = [associationsCreate, associationsArchive, associationsOf];
