import { randomUUID } from 'node:crypto';
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { type BatchOperationResult, packBatchResults } from './batch-archive.js';
import type { Faults } from './faults.js';
import { pageOf } from './paging.js';
import { invalid, notFound, SandboxProblem } from './problem.js';
import { parseJsonObject, type RouteAnswer } from './route-types.js';

/**
 * Mailchimp's Batch Operations (https://mailchimp.com/developer/marketing/api/batch-operations/,
 * https://mailchimp.com/developer/marketing/guides/run-async-requests-batch-endpoint/): POST
 * /batches takes `{ operations: [{ method, path, params?, body?, operation_id? }] }`, `body` being
 * the JSON as a string, and answers at once with the batch `pending`. Mailchimp then runs the
 * operations on its side, outside the key's per-second budget and 10-connection cap, and GET
 * /batches/{id} shows `started`, then `finished` with `response_body_url`: a gzipped tar of JSON
 * files, each an array of `{ status_code, operation_id, response }`, `response` being the
 * answer's JSON text (Mailchimp's guide documents exactly this shape).
 *
 * Here each operation goes, in order and one per event-loop turn, through the sandbox's own
 * routes with the batch owner's account: the same validation, audience changes and problem+json
 * errors as a direct request; a path no route has is a 404 result. A 204 answer's `response` is
 * '' (its body is empty; no published sample shows a 204 result, so clients should accept '' and
 * '{}' alike). Real Mailchimp also reports `preprocessing` and `finalizing`; the sandbox goes
 * pending → started → finished, so a client must treat every status but `finished` as not yet.
 * Methods must be upper case, as the API's schema lists them.
 */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const BatchOperation = z.object({
  method: z.enum(METHODS, { error: `Must be one of ${METHODS.join(', ')}` }),
  path: z.string({ error: 'Required: the path below /3.0, e.g. /lists/{list_id}/members' }).min(1),
  params: z.record(z.string(), z.union([Scalar, z.array(Scalar)])).nullish(),
  body: z.string({ error: 'Must be a string holding the JSON body (JSON.stringify it)' }).nullish(),
  operation_id: z.string({ error: 'Must be a string' }).nullish(),
});
type BatchOperation = z.infer<typeof BatchOperation>;
const BatchRequest = z.object({ operations: z.array(BatchOperation) });

/** Where results archives are served, outside /3.0 as Mailchimp's are outside the API (S3). */
export const RESULTS_PATH = '/__sandbox/batch-results/';

interface BatchRun {
  id: string;
  account: string;
  status: 'pending' | 'started' | 'finished';
  operations: BatchOperation[];
  results: BatchOperationResult[];
  submitted_at: string;
  completed_at: string;
  /** The unguessable part of the results link, standing in for S3's signature. */
  token: string;
  archive: Buffer | null;
  deleted: boolean;
}

export interface BatchRunsDeps {
  /** The sandbox's route dispatch, as a direct request after authentication reaches it. */
  dispatch(
    method: string,
    path: string,
    account: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): RouteAnswer;
  faults: Faults;
  delayMs(): number;
  /** `http://127.0.0.1:PORT`, for the results links. */
  origin(): string;
}

/** Mailchimp's timestamps: `2026-03-30T14:33:36+00:00`. */
const timestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');

const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

export class BatchRuns {
  private readonly runs = new Map<string, BatchRun>();
  private stopping = new AbortController();

  constructor(private readonly deps: BatchRunsDeps) {}

  /** POST /batches, GET /batches, GET and DELETE /batches/{id}; undefined for any other request. */
  answer(
    method: string,
    path: string,
    account: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): RouteAnswer | undefined {
    const match = /^\/batches(?:\/([^/]+))?\/?$/.exec(path);
    if (!match) return undefined;
    if (match[1] === undefined) {
      if (method === 'POST') return { status: 200, body: this.view(this.submit(account, body)) };
      if (method !== 'GET') return undefined;
      const mine = [...this.runs.values()].filter((b) => b.account === account && !b.deleted);
      const { items, total_items } = pageOf(query, mine);
      return { status: 200, body: { batches: items.map((b) => this.view(b)), total_items, _links: [] } };
    }
    if (method !== 'GET' && method !== 'DELETE') return undefined;
    const batch = this.runs.get(decodeURIComponent(match[1]));
    // Another account's batch does not exist, as far as this key can tell.
    if (!batch || batch.deleted || batch.account !== account) throw notFound();
    if (method === 'GET') return { status: 200, body: this.view(batch) };
    // "Stops a batch request from running … The results of any completed operations will not
    // be available after this call."
    batch.deleted = true;
    batch.archive = null;
    return { status: 204 };
  }

  /** GET of a results link: no key needed (S3's pre-signed link), S3's 403 for a link to nothing. */
  async download(
    path: string,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer | string }> {
    const fault = this.deps.faults.take('GET', path, true);
    if (fault) {
      if (fault.delayMs) await delay(fault.delayMs);
      if (fault.rawBody !== undefined)
        return {
          status: fault.status,
          headers: { 'content-type': 'text/html', ...fault.headers },
          body: fault.rawBody,
        };
      const problem = new SandboxProblem(
        fault.status,
        fault.title ?? 'Injected Fault',
        fault.detail ?? 'injected',
      );
      const headers = { 'content-type': 'application/problem+json', ...fault.headers };
      return { status: fault.status, headers, body: JSON.stringify(problem.toJSON()) };
    }
    const match = /^([0-9a-f]+)-([0-9a-f]{32})\.tar\.gz$/.exec(path.slice(RESULTS_PATH.length));
    const batch = match ? this.runs.get(match[1] as string) : undefined;
    const archive = batch && batch.token === match?.[2] ? batch.archive : null;
    if (!archive) return { status: 403, headers: { 'content-type': 'application/xml' }, body: ACCESS_DENIED };
    return { status: 200, headers: { 'content-type': 'application/x-gzip' }, body: archive };
  }

  /** Every batch submitted, for tests' assertions. */
  all() {
    return [...this.runs.values()].map((b) => ({
      id: b.id,
      account: b.account,
      status: b.deleted ? ('deleted' as const) : b.status,
      operations: b.operations.length,
      /** `METHOD path` of each operation, in order. */
      requests: b.operations.map((o) => `${o.method} ${o.path}`),
      results: [...b.results],
    }));
  }

  /** Ends the runs under way (the sandbox is stopping); their batches stay unfinished. */
  stop(): void {
    this.stopping.abort();
    this.stopping = new AbortController();
  }

  private submit(account: string, body: Record<string, unknown>): BatchRun {
    const parsed = BatchRequest.safeParse(body);
    if (!parsed.success) {
      throw invalid(
        'The resource submitted could not be validated.',
        parsed.error.issues
          .slice(0, 20)
          .map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message })),
      );
    }
    const batch: BatchRun = {
      id: randomUUID().replaceAll('-', '').slice(0, 10),
      account,
      status: 'pending',
      operations: parsed.data.operations,
      results: [],
      submitted_at: timestamp(),
      completed_at: '',
      token: randomUUID().replaceAll('-', ''),
      archive: null,
      deleted: false,
    };
    this.runs.set(batch.id, batch);
    const { signal } = this.stopping;
    this.run(batch, signal).catch((error: unknown) => {
      if (!signal.aborted) throw error;
    });
    return batch;
  }

  private async run(batch: BatchRun, signal: AbortSignal): Promise<void> {
    await delay(this.deps.delayMs(), undefined, { signal, ref: false });
    await this.deps.faults.batchesMayRun();
    if (signal.aborted || batch.deleted) return;
    batch.status = 'started';
    for (const operation of batch.operations) {
      batch.results.push(await this.runOperation(batch.account, operation, signal));
      // One operation a turn, so a status read in between sees the batch `started`, part done.
      // (Not unref'd: an unref'd immediate waits for the next I/O, milliseconds an operation.)
      await nextTurn(undefined, { signal });
      if (batch.deleted) return;
    }
    batch.archive = await packBatchResults(batch.id, batch.results);
    batch.completed_at = timestamp();
    batch.status = 'finished';
  }

  private async runOperation(
    account: string,
    operation: BatchOperation,
    signal: AbortSignal,
  ): Promise<BatchOperationResult> {
    const operation_id = operation.operation_id ?? null;
    const [path, query] = target(operation);
    const fault = this.deps.faults.take(operation.method, path, true);
    if (fault?.delayMs) await delay(fault.delayMs, undefined, { signal, ref: false });
    if (fault?.applied) {
      try {
        this.deps.dispatch(operation.method, path, account, query, parseJsonObject(operation.body ?? ''));
      } catch {
        // The fault answers for it either way.
      }
    }
    if (fault?.rawBody !== undefined)
      return { status_code: fault.status, operation_id, response: fault.rawBody };
    try {
      if (fault)
        throw new SandboxProblem(fault.status, fault.title ?? 'Injected Fault', fault.detail ?? 'injected');
      const body = parseJsonObject(operation.body ?? '');
      const answer = this.deps.dispatch(operation.method, path, account, query, body);
      const response = answer.status === 204 || answer.body === undefined ? '' : JSON.stringify(answer.body);
      return { status_code: answer.status, operation_id, response };
    } catch (error) {
      const problem =
        error instanceof SandboxProblem
          ? error
          : new SandboxProblem(500, 'Internal Server Error', String(error));
      return { status_code: problem.status, operation_id, response: JSON.stringify(problem.toJSON()) };
    }
  }

  private view(batch: BatchRun) {
    const finished = batch.archive !== null;
    return {
      id: batch.id,
      status: batch.status,
      total_operations: batch.operations.length,
      finished_operations: batch.results.length,
      errored_operations: batch.results.filter((r) => r.status_code >= 400).length,
      submitted_at: batch.submitted_at,
      completed_at: batch.completed_at,
      response_body_url: finished
        ? `${this.deps.origin()}${RESULTS_PATH}${batch.id}-${batch.token}.tar.gz`
        : '',
      _links: [],
    };
  }
}

/**
 * An operation's path and query as a direct request would have them: the path below /3.0 (a
 * leading slash or /3.0 tolerated), a query string in it kept, `params` added (lists joined with
 * commas, as Mailchimp's `fields` are written).
 */
function target(operation: BatchOperation): [string, URLSearchParams] {
  const at = operation.path.indexOf('?');
  const raw = at < 0 ? operation.path : operation.path.slice(0, at);
  const path = `/${raw.replace(/^\/+/, '')}`.replace(/^\/3\.0(?=\/|$)/, '') || '/';
  const query = new URLSearchParams(at < 0 ? '' : operation.path.slice(at + 1));
  for (const [name, value] of Object.entries(operation.params ?? {}))
    query.set(name, Array.isArray(value) ? value.join(',') : String(value));
  return [path, query];
}
