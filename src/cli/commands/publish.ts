import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createAppContext } from '../../app/context.js';
import { createEventsQueue } from '../../ingest/event-jobs.js';
import { readIngestBody } from '../../ingest/ingest-body.js';
import { type IngestResult, ingestEvents } from '../../ingest/ingest-events.js';
import { printResult, renderTable } from '../output.js';

/** Reads a JSON file of one event, an array of events or `{ "events": [...] }`; errors name the file. */
export async function readEventsFile(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const body = readIngestBody(json);
  if (!body.ok) throw new Error(`${file}: ${body.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return body.events;
}

export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description('validate the events in a JSON file and put them on the crm-events queue')
    .argument('<file>', 'JSON file: one event, an array of events, or { "events": [...] }')
    .option('--json', 'print JSON for scripts')
    .addHelpText(
      'after',
      '\nMalformed events go to the dead-letter store (crm-sync failures list) and make the exit code 1;\nthe valid ones are enqueued regardless. Publishing an event id twice enqueues it once.',
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const events = await readEventsFile(file);
      const ctx = createAppContext();
      const queue = createEventsQueue(ctx.redis(), ctx.env.CRM_SYNC_QUEUE_PREFIX);
      try {
        const results = await ingestEvents({ db: ctx.db, queue, via: 'cli' }, events);
        const counts = { accepted: 0, duplicate: 0, rejected: 0 };
        for (const r of results) counts[r.status] += 1;
        printResult(opts, { ...counts, results }, () => human(results, counts));
        if (counts.rejected > 0) process.exitCode = 1;
      } finally {
        await queue.close();
        await ctx.close();
      }
    });
}

function human(results: IngestResult[], counts: Record<IngestResult['status'], number>): string {
  const rows = results.map((r) => ({
    '#': r.index,
    id: r.id ?? '(none)',
    status: r.status,
    problem: r.status === 'rejected' ? `${r.message} (failure ${r.failureId})` : '',
  }));
  const summary = `${counts.accepted} accepted, ${counts.duplicate} duplicate, ${counts.rejected} rejected`;
  return `${renderTable(rows, ['#', 'id', 'status', 'problem'])}\n${summary}`;
}
