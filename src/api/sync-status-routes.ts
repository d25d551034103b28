import { z } from 'zod';
import { HttpError } from '../server/http-error.js';
import type { AdminRoutes } from '../server/route-options.js';
import { findLinksOfEntity } from '../store/links-repo.js';

const Params = z.object({ id: z.string().min(1).max(200) });

/**
 * `GET /v1/contacts/:id/sync-status`, in the CRM's own shape (CONTRACT §4), by the contact's id
 * or its CRM external id (`ctc_…`).
 */
export const syncStatusRoutes: AdminRoutes = async (app, { ctx }) => {
  app.get('/contacts/:id/sync-status', async (request) => {
    const { id } = Params.parse(request.params);
    const links = await findLinksOfEntity(ctx.db, 'contact', id);
    if (links.length === 0) throw new HttpError(404, 'not_found', `contact ${id} has no sync links`);
    const { rows } = await ctx.db.query<{ id: string; name: string; provider: string }>(
      `SELECT id, name, provider FROM crm_sync.integrations WHERE id = ANY($1::uuid[])`,
      [links.map((l) => l.integrationId)],
    );
    const integrations = new Map(rows.map((r) => [r.id, r]));
    return {
      data: {
        contactId: links[0]!.entityId,
        externalId: links.find((l) => l.crmExternalId)?.crmExternalId ?? null,
        integrations: links.map((link) => ({
          integrationId: link.integrationId,
          integrationName: integrations.get(link.integrationId)?.name ?? null,
          provider: integrations.get(link.integrationId)?.provider ?? null,
          externalId: link.externalId,
          lastSyncedAt: link.lastSyncedAt?.toISOString() ?? null,
          syncHash: link.syncHash,
          lastError: link.lastError,
        })),
      },
    };
  });
};
