import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { activityRoutes } from './activity-routes.js';
import { Audience, type SandboxStatus } from './audience.js';
import { BatchRuns, RESULTS_PATH } from './batch-runs.js';
import { Faults } from './faults.js';
import { listRoutes } from './list-routes.js';
import { memberRoutes } from './member-routes.js';
import type { SandboxMergeField } from './merge-validation.js';
import { notFound, SandboxProblem } from './problem.js';
import { onlyFields, parseJsonObject, type Route } from './route-types.js';
import { type Limits, Traffic } from './traffic.js';

/**
 * A loopback Mailchimp Marketing API 3.0 for tests, the demo and the benchmark: accounts by API
 * key (several keys may share one, and GET /3.0/ names its `account_id`), audiences with members,
 * merge fields, tags, notes, events and static segments, problem+json errors, a per-second budget
 * and a 10-connection cap per account (429s), latency, and fault injection. Point a connector at
 * `url` (settings.baseUrl or MAILCHIMP_BASE_URL).
 *
 * Batch operations (batch-runs.ts): POST /batches answers `pending` at once; after
 * `limits.batchDelayMs` (20 ms by default) the operations run through the same routes, outside
 * the limits and the request log, and GET /batches/{id} then gives a `response_body_url` on this
 * server (`http://127.0.0.1:PORT/__sandbox/batch-results/<id>-<token>.tar.gz`, no key needed, as
 * Mailchimp's pre-signed S3 link). `faults.holdBatches(true)` keeps new batches `pending` until
 * `holdBatches(false)` or `faults.clear()`, to test a client's batch timeout; `batches()` lists
 * what was submitted.
 *
 * @example
 * const sandbox = createMailchimpSandbox({ limits: { perSecond: 8 } });
 * const { url } = await sandbox.start();
 * sandbox.addAccount('key-us1', 'acme');
 * sandbox.addAudience({ id: 'list1', apiKey: 'key-us1' });
 * // Another user's key of the same account: the same audiences, budget and account_id.
 * sandbox.addAccount('other-key-us1', 'acme');
 */
export type MergeFieldSeed = Omit<SandboxMergeField, 'merge_id' | 'public' | 'default_value'>;

export const DEFAULT_MERGE_FIELDS: MergeFieldSeed[] = [
  { tag: 'FNAME', name: 'First Name', type: 'text', required: false, options: { size: 25 } },
  { tag: 'LNAME', name: 'Last Name', type: 'text', required: false, options: { size: 25 } },
  { tag: 'ADDRESS', name: 'Address', type: 'address', required: false, options: {} },
  {
    tag: 'PHONE',
    name: 'Phone Number',
    type: 'phone',
    required: false,
    options: { phone_format: 'International' },
  },
  { tag: 'BIRTHDAY', name: 'Birthday', type: 'birthday', required: false, options: { date_format: 'MM/DD' } },
];

const routes: Route[] = [...listRoutes, ...memberRoutes, ...activityRoutes];

export interface SandboxOptions {
  limits?: Partial<Limits>;
  /**
   * Sends Retry-After with a 429. Mailchimp sends none, so by default neither does the sandbox:
   * a client must not depend on it. For tests of a client's handling of the header.
   */
  retryAfterHeader?: boolean;
}

export function createMailchimpSandbox(options: SandboxOptions = {}) {
  const traffic = new Traffic({
    perSecond: null,
    maxConnections: 10,
    latencyMs: 0,
    batchDelayMs: 20,
    ...options.limits,
  });
  const faults = new Faults();
  /** API key → account name; several keys may share an account, as several users' keys do. */
  const accounts = new Map<string, string>();
  /** Account name → its `account_id` (GET /3.0/). */
  const accountIds = new Map<string, string>();
  const audiences = new Map<string, Audience>();
  let server: Server | null = null;
  let url = '';

  function audience(id: string): Audience {
    const found = audiences.get(id);
    if (!found) throw new Error(`sandbox has no audience ${id}`);
    return found;
  }

  function accountOf(req: IncomingMessage): string {
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ');
    let key = '';
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      key = decoded.slice(decoded.indexOf(':') + 1);
    } else if (scheme?.toLowerCase() === 'bearer') {
      key = value;
    }
    if (!key) throw new SandboxProblem(401, 'API Key Missing', 'Your request did not include an API key.');
    const account = accounts.get(key);
    if (!account) {
      throw new SandboxProblem(
        401,
        'API Key Invalid',
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
      );
    }
    return account;
  }

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return parseJsonObject(Buffer.concat(chunks).toString('utf8'));
  }

  function route(
    method: string,
    path: string,
    account: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ) {
    if (path === '/ping' || path === '/ping/')
      return { status: 200, body: { health_status: "Everything's Chimpy!" } };
    if (path === '' || path === '/') {
      if (method !== 'GET') throw notFound();
      return { status: 200, body: onlyFields(apiRoot(account), query) };
    }
    for (const r of routes) {
      const match = r.method === method ? r.pattern.exec(path) : null;
      if (!match) continue;
      const list = audiences.get(decodeURIComponent(match[1] as string));
      // Another account's audience does not exist, as far as this key can tell.
      if (!list || list.account !== account) throw notFound();
      const params = match.slice(2).map((p) => decodeURIComponent(p));
      return r.handle({ audience: list, params, query, body, faults });
    }
    throw notFound();
  }

  /** GET / (API Root): the account the key belongs to, the parts of it a client may read. */
  function apiRoot(account: string) {
    const owned = [...audiences.values()].filter((a) => a.account === account);
    return {
      account_id: accountIds.get(account),
      account_name: account,
      email: `owner@${account.replace(/[^A-Za-z0-9-]/g, '-')}.example.com`,
      role: 'owner',
      pricing_plan_type: 'monthly',
      total_subscribers: owned.reduce((n, a) => n + a.members.size, 0),
      _links: [],
    };
  }

  const batchRuns = new BatchRuns({
    dispatch: route,
    faults,
    delayMs: () => traffic.limits.batchDelayMs,
    origin: () => url.replace(/\/3\.0$/, ''),
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const t = performance.now();
    const at = Date.now();
    const method = req.method ?? 'GET';
    const parsedUrl = new URL(req.url ?? '/', 'http://sandbox');
    const path = parsedUrl.pathname.replace(/^\/3\.0/, '');
    if (method === 'GET' && path.startsWith(RESULTS_PATH)) {
      // Outside the API, as S3 is: no key, no budget or connection cap; logged without an account.
      const download = await batchRuns.download(path);
      res.writeHead(download.status, download.headers).end(download.body);
      const entry = { t, at, method, path, account: null, status: download.status, inFlight: 0 };
      traffic.log.push({ ...entry, durationMs: performance.now() - t });
      return;
    }
    let account: string | null = null;
    let admitted = false;
    let inFlight = 0;
    let status = 500;
    let answer: unknown;
    let headers: Record<string, string> = {};
    let raw: string | undefined;
    try {
      const body = await readBody(req);
      account = accountOf(req);
      const admission = traffic.admit(account, t);
      if (!admission.ok) {
        const retryAfter: Record<string, string> = options.retryAfterHeader
          ? { 'retry-after': String(admission.retryAfterSec) }
          : {};
        throw new SandboxProblem(429, 'Too Many Requests', admission.detail, undefined, retryAfter);
      }
      admitted = true;
      inFlight = traffic.flying(account);
      if (traffic.limits.latencyMs > 0) await delay(traffic.limits.latencyMs);
      const fault = faults.take(method, path);
      // A write that happened although its answer is lost: carried out, then the fault.
      if (fault?.applied) {
        try {
          batchRuns.answer(method, path, account, parsedUrl.searchParams, body) ??
            route(method, path, account, parsedUrl.searchParams, body);
        } catch {
          // Refused or not: the fault answers for it.
        }
      }
      if (fault?.drop) {
        if (fault.delayMs) await delay(fault.delayMs);
        req.socket.destroy();
        traffic.release(account);
        traffic.log.push({
          t,
          at,
          method,
          path,
          account,
          status: 0,
          durationMs: performance.now() - t,
          inFlight,
        });
        return;
      }
      if (fault) {
        if (fault.delayMs) await delay(fault.delayMs);
        if (fault.rawBody !== undefined) {
          status = fault.status;
          raw = fault.rawBody;
          headers = { 'content-type': 'text/html', ...fault.headers };
        } else {
          throw new SandboxProblem(
            fault.status,
            fault.title ?? 'Injected Fault',
            fault.detail ?? 'injected by the sandbox',
            undefined,
            fault.headers,
          );
        }
      } else {
        const result =
          batchRuns.answer(method, path, account, parsedUrl.searchParams, body) ??
          route(method, path, account, parsedUrl.searchParams, body);
        status = result.status;
        answer = result.body;
      }
    } catch (error) {
      const problem =
        error instanceof SandboxProblem
          ? error
          : new SandboxProblem(500, 'Internal Server Error', String(error));
      status = problem.status;
      answer = problem.toJSON();
      headers = { 'content-type': 'application/problem+json', ...problem.headers };
    }
    if (raw !== undefined) {
      res.writeHead(status, headers).end(raw);
    } else if (answer === undefined || status === 204) {
      res.writeHead(status, headers).end();
    } else {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer));
    }
    if (admitted && account) traffic.release(account);
    traffic.log.push({ t, at, method, path, account, status, durationMs: performance.now() - t, inFlight });
  }

  return {
    traffic,
    faults,
    get url() {
      return url;
    },

    /** Listens on 127.0.0.1, on a free port unless one is given. */
    async start(options: { port?: number } = {}): Promise<{ url: string; port: number }> {
      server = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          res.writeHead(500).end(String(error));
        });
      });
      // Kept-alive connections stay open 30 s, as behind a load balancer, not Node's 5 s: a client
      // that holds them longer than it should shows (Mailchimp's own idle limit is not documented).
      server.keepAliveTimeout = 30_000;
      server.on('connection', (socket) => {
        traffic.openSockets += 1;
        traffic.socketsOpened += 1;
        traffic.peakSockets = Math.max(traffic.peakSockets, traffic.openSockets);
        socket.on('close', () => {
          traffic.openSockets -= 1;
        });
      });
      await new Promise<void>((resolve) => server?.listen(options.port ?? 0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      url = `http://127.0.0.1:${port}/3.0`;
      return { url, port };
    },

    async stop(): Promise<void> {
      batchRuns.stop();
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },

    /** Changes the per-second budget, connection cap, latency or batch delay on the fly. */
    configure(limits: Partial<Limits>): void {
      traffic.limits = { ...traffic.limits, ...limits };
    },

    /**
     * Registers an API key; its requests belong to the account `name` (another key of the same
     * `name` is another user's key of that account). GET /3.0/ answers the account's
     * `account_id`: `accountId`, else one derived from the name.
     */
    addAccount(apiKey: string, name = apiKey.slice(-8), accountId?: string): string {
      const id = accountId ?? createHash('sha256').update(name).digest('hex').slice(0, 25);
      const known = accountIds.get(name);
      if (known !== undefined && known !== id)
        throw new Error(`sandbox account ${name} already has the account id ${known}`);
      accountIds.set(name, id);
      accounts.set(apiKey, name);
      return name;
    },

    /** The `account_id` GET /3.0/ answers for an account name. */
    accountIdOf(name: string): string | undefined {
      return accountIds.get(name);
    },

    addAudience(input: {
      id: string;
      apiKey: string;
      name?: string;
      mergeFields?: MergeFieldSeed[];
    }): Audience {
      const owner = accounts.get(input.apiKey);
      if (!owner) throw new Error('add the account (addAccount) before its audience');
      const created = new Audience(
        input.id,
        input.name ?? `Audience ${input.id}`,
        owner,
        input.mergeFields ?? DEFAULT_MERGE_FIELDS,
      );
      audiences.set(input.id, created);
      return created;
    },

    audience,

    /** The member as the API shows it, or undefined. */
    member(listId: string, email: string) {
      const list = audience(listId);
      const found = list.find(email);
      return found ? { ...list.view(found), notes: [...found.notes], events: [...found.events] } : undefined;
    },

    /** Puts a member in place as if they had signed up (or unsubscribed) themselves. */
    seedMember(
      listId: string,
      input: { email: string; status: SandboxStatus; mergeFields?: Record<string, unknown>; tags?: string[] },
    ) {
      const list = audience(listId);
      const member = list.create(
        input.email,
        input.status === 'archived' ? 'subscribed' : input.status,
        input.mergeFields ?? {},
      );
      list.setTags(
        member,
        (input.tags ?? []).map((name) => ({ name, status: 'active' })),
      );
      if (input.status === 'archived') list.archive(member.id);
      return list.view(member);
    },

    /** What the member does in Mailchimp (unsubscribe link, bounce), beyond any API rule. */
    setStatus(listId: string, email: string, status: SandboxStatus): void {
      const member = audience(listId).find(email);
      if (!member) throw new Error(`no member ${email} in ${listId}`);
      member.status = status;
      member.last_changed = new Date().toISOString();
    },

    /** Every batch submitted (POST /batches): status, operation count, results so far. */
    batches: () => batchRuns.all(),

    stats() {
      const log = traffic.log;
      return {
        requests: log.length,
        rateLimited: log.filter((e) => e.status === 429).length,
        serverErrors: log.filter((e) => e.status >= 500).length,
        peakInFlight: traffic.peakInFlight,
        peakSockets: traffic.peakSockets,
        socketsOpened: traffic.socketsOpened,
      };
    },
  };
}

export type MailchimpSandbox = ReturnType<typeof createMailchimpSandbox>;
