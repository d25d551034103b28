import type { Command } from 'commander';
import { createAppContext } from '../../app/context.js';
import { getIntegrationByKey, listIntegrations } from '../../store/integrations-repo.js';
import { listSyncLog } from '../../store/sync-log-repo.js';
import { printResult, renderTable } from '../output.js';

/** Contacts are found by CRM id, CRM external id (`ctc_…`), or the email their last event carried. */
const FIND_CONTACT_LINKS = `
  SELECT l.entity_id, l.crm_external_id, l.external_id, l.sync_hash, l.last_synced_at, l.last_event_id,
         l.last_version, l.last_error, i.key AS integration, i.provider, i.status AS integration_status
    FROM crm_sync.sync_links l JOIN crm_sync.integrations i ON i.id = l.integration_id
   WHERE l.entity_type = 'contact'
     AND (l.entity_id = $1 OR l.crm_external_id = $1 OR lower(l.crm_email) = lower($1))
   ORDER BY i.key`;

export function registerStatusCommands(program: Command): void {
  program
    .command('status')
    .description("a contact's sync state per integration: provider id, last sync, last error")
    .requiredOption('--contact <id|email>', 'CRM contact id, CRM external id (ctc_…) or email')
    .option('--json', 'print JSON for scripts')
    .action(async (opts: { contact: string; json?: boolean }) => {
      const ctx = createAppContext();
      try {
        const { rows } = await ctx.db.query(FIND_CONTACT_LINKS, [opts.contact]);
        const { rows: open } = await ctx.db.query(
          `SELECT f.id, i.key AS integration, f.error_kind, f.error_message FROM crm_sync.sync_failures f
             LEFT JOIN crm_sync.integrations i ON i.id = f.integration_id
            WHERE f.status = 'open' AND f.entity_type = 'contact' AND f.entity_id = ANY($1::text[])`,
          [[...new Set(rows.map((r) => r.entity_id as string)), opts.contact]],
        );
        if (rows.length === 0 && open.length === 0) {
          throw new Error(`no sync state for contact "${opts.contact}" (never routed to an integration)`);
        }
        printResult(opts, { links: rows, openFailures: open }, () =>
          [
            renderTable(rows, [
              'integration',
              'provider',
              'external_id',
              'last_synced_at',
              'last_version',
              'last_error',
            ]),
            open.length > 0
              ? `open dead letters:\n${renderTable(open, ['id', 'integration', 'error_kind', 'error_message'])}`
              : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });

  program
    .command('logs')
    .description('the sync log, newest first: one row per record per attempt')
    .option('--integration <key>', 'only this integration')
    .option('--contact <id>', 'only this contact')
    .option('--result <result>', 'success | skipped | retrying | failed')
    .option('--limit <n>', 'at most this many rows', '50')
    .option('--json', 'print JSON for scripts')
    .action(
      async (opts: {
        integration?: string;
        contact?: string;
        result?: string;
        limit: string;
        json?: boolean;
      }) => {
        const ctx = createAppContext();
        try {
          const integration = opts.integration ? await getIntegrationByKey(ctx.db, opts.integration) : null;
          if (opts.integration && !integration)
            throw new Error(`no integration with key "${opts.integration}"`);
          const keys = new Map((await listIntegrations(ctx.db)).map((i) => [i.id, i.key]));
          const rows = await listSyncLog(ctx.db, {
            ...(integration ? { integrationId: integration.id } : {}),
            ...(opts.contact ? { entityType: 'contact', entityId: opts.contact } : {}),
            ...(opts.result ? { result: opts.result } : {}),
            limit: Number(opts.limit),
          });
          const shown = rows.map((r) => ({
            ...r,
            integration: keys.get(r.integrationId) ?? r.integrationId,
          }));
          printResult(opts, shown, () =>
            renderTable(shown, [
              'createdAt',
              'integration',
              'entityType',
              'entityId',
              'eventType',
              'action',
              'result',
              'apiCalls',
              'durationMs',
              'error',
            ]),
          );
        } finally {
          await ctx.close();
        }
      },
    );
}
