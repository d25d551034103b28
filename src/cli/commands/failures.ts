import type { Command } from 'commander';
import { createAppContext } from '../../app/context.js';
import { createEngine } from '../../engine/engine.js';
import { getFailure, listFailures } from '../../store/failures-repo.js';
import { getIntegrationByKey } from '../../store/integrations-repo.js';
import { printResult, renderTable } from '../output.js';

async function integrationId(ctx: ReturnType<typeof createAppContext>, key: string | undefined) {
  if (!key) return undefined;
  const integration = await getIntegrationByKey(ctx.db, key);
  if (!integration) throw new Error(`no integration with key "${key}" (see: crm-sync integrations list)`);
  return integration.id;
}

function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)(m|h|d)$/.exec(value);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(relative[1]) * unit);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new Error(`--since: "${value}" is neither an ISO date nor a duration like 30m, 2h, 7d`);
  return date;
}

export function registerFailuresCommands(program: Command): void {
  const failures = program
    .command('failures')
    .description('inspect dead letters (records that could not sync)');

  failures
    .command('list')
    .description('list dead letters, newest first')
    .option('--integration <key>', 'only this integration')
    .option('--status <status>', 'open | replaying | replayed | discarded', 'open')
    .option('--code <code>', 'only this provider error code')
    .option('--since <time>', 'ISO time or a duration (30m, 2h, 7d)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON for scripts')
    .action(async (opts) => {
      const ctx = createAppContext();
      try {
        const id = await integrationId(ctx, opts.integration);
        const since = parseSince(opts.since);
        const rows = await listFailures(ctx.db, {
          ...(id ? { integrationId: id } : {}),
          status: opts.status,
          ...(opts.code ? { code: opts.code } : {}),
          ...(since ? { since } : {}),
          limit: Number(opts.limit),
        });
        printResult(opts, rows, () =>
          renderTable(
            rows.map((r) => ({
              id: r.id,
              stage: r.stage,
              entity: r.entityType ? `${r.entityType}:${r.entityId}` : '',
              event: r.eventId,
              kind: r.errorKind,
              code: r.errorCode,
              status: r.providerStatus,
              error: r.errorMessage.length > 80 ? `${r.errorMessage.slice(0, 77)}...` : r.errorMessage,
              attempts: r.attempts,
              updated: r.updatedAt,
            })),
            ['id', 'stage', 'entity', 'event', 'kind', 'code', 'status', 'error', 'attempts', 'updated'],
          ),
        );
      } finally {
        await ctx.close();
      }
    });

  failures
    .command('show')
    .argument('<id>', 'dead letter id')
    .description("one dead letter in full: the event, the provider's answer, attempts")
    .option('--json', 'print JSON for scripts')
    .action(async (id: string, opts) => {
      const ctx = createAppContext();
      try {
        const failure = await getFailure(ctx.db, Number(id));
        if (!failure) throw new Error(`no dead letter with id ${id}`);
        printResult(opts, failure, () => JSON.stringify(failure, null, 2));
      } finally {
        await ctx.close();
      }
    });

  program
    .command('replay')
    .argument('[ids...]', 'dead letter ids')
    .description('re-run dead letters against the current link state (each is marked, never duplicated)')
    .option('--integration <key>', 'every open dead letter of this integration')
    .option('--since <time>', 'with --integration: only those since (ISO time or 30m, 2h, 7d)')
    .option('--code <code>', 'with --integration: only this provider error code')
    .option('--dry-run', 'show what would be replayed, change nothing')
    .option('--json', 'print JSON for scripts')
    .action(async (ids: string[], opts) => {
      if (ids.length === 0 && !opts.integration) throw new Error('give dead letter ids or --integration KEY');
      const bad = ids.filter((i) => !/^\d+$/.test(i));
      if (bad.length > 0) throw new Error(`not a dead letter id: ${bad.join(', ')}`);
      const ctx = createAppContext();
      const engine = createEngine(ctx);
      try {
        const id = await integrationId(ctx, opts.integration);
        const since = parseSince(opts.since);
        const results = await engine.replay({
          ids: ids.map(Number),
          ...(id ? { integrationId: id } : {}),
          ...(since ? { since } : {}),
          ...(opts.code ? { code: opts.code } : {}),
          dryRun: Boolean(opts.dryRun),
        });
        printResult(opts, results, () => {
          const queued = results.filter((r) => r.status === 'queued').length;
          const summary = opts.dryRun
            ? `${results.filter((r) => r.status === 'would_replay').length} would be replayed`
            : `${queued} queued for replay`;
          return `${renderTable(results as unknown as Record<string, unknown>[], ['id', 'status', 'entity', 'eventId', 'reason'])}\n${summary}`;
        });
        if (results.some((r) => r.status === 'not_replayable')) process.exitCode = 1;
      } finally {
        await engine.stop();
        await ctx.close();
      }
    });
}
