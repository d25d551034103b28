import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import { HttpError } from '../server/http-error.js';
import type { AdminRoutes } from '../server/route-options.js';
import { getFailure, listFailures } from '../store/failures-repo.js';
import { getIntegrationByKey } from '../store/integrations-repo.js';

const ListQuery = z.object({
  integration: z.string().optional(),
  status: z.enum(['open', 'replaying', 'replayed', 'discarded']).optional(),
  stage: z.enum(['ingest', 'sync']).optional(),
  code: z.string().optional(),
  since: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const ReplayBody = z
  .object({
    ids: z.array(z.number().int().positive()).max(1000).optional(),
    integration: z.string().optional(),
    since: z.coerce.date().optional(),
    code: z.string().optional(),
    dryRun: z.boolean().default(false),
  })
  .refine((b) => (b.ids?.length ?? 0) > 0 || b.integration, { message: 'give ids or an integration key' });

/** Dead letters for operators: list, show (with the provider's answer), replay. */
export function failuresRoutes(engine: Engine): AdminRoutes {
  return async (app, { ctx }) => {
    const integrationIdOf = async (key: string | undefined) => {
      if (!key) return undefined;
      const integration = await getIntegrationByKey(ctx.db, key);
      if (!integration) throw new HttpError(404, 'not_found', `no integration with key "${key}"`);
      return integration.id;
    };

    app.get('/failures', async (request) => {
      const q = ListQuery.parse(request.query);
      const integrationId = await integrationIdOf(q.integration);
      const rows = await listFailures(ctx.db, {
        ...(integrationId ? { integrationId } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.stage ? { stage: q.stage } : {}),
        ...(q.code ? { code: q.code } : {}),
        ...(q.since ? { since: q.since } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return { data: rows };
    });

    app.get('/failures/:id', async (request) => {
      const { id } = z.object({ id: z.coerce.number().int().positive() }).parse(request.params);
      const failure = await getFailure(ctx.db, id);
      if (!failure) throw new HttpError(404, 'not_found', `no dead letter with id ${id}`);
      return { data: failure };
    });

    app.post('/failures/replay', async (request) => {
      const body = ReplayBody.parse(request.body);
      const integrationId = await integrationIdOf(body.integration);
      const results = await engine.replay({
        ...(body.ids ? { ids: body.ids } : {}),
        ...(integrationId ? { integrationId } : {}),
        ...(body.since ? { since: body.since } : {}),
        ...(body.code ? { code: body.code } : {}),
        dryRun: body.dryRun,
      });
      return { data: results };
    });
  };
}
