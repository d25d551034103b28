import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { associationRoutes } from './association-routes.js';
import { Faults } from './faults.js';
import { listRoutes } from './list-routes.js';
import { objectQueryRoutes } from './object-query-routes.js';
import { objectRoutes } from './object-routes.js';
import { propertyRoutes } from './property-routes.js';
import { RequestLog } from './request-log.js';
import { RollingWindow } from './rolling-window.js';
import type { Route, RouteAnswer, SandboxBehaviour } from './route.js';
import { errorBody, SandboxHttpError } from './sandbox-errors.js';
import { SandboxStore } from './sandbox-store.js';

export interface HubSpotSandboxOptions {
  /** The rolling limit (HubSpot's TEN_SECONDLY_ROLLING): 80 per 10 s unless told. */
  rateLimit?: { max: number; perMs: number };
  /** The search API's own limit: 5 per second unless told. */
  searchLimit?: { max: number; perMs: number };
  /** Requests allowed per day before DAILY 429s. */
  dailyLimit?: number;
  /** Send Retry-After (seconds) on 429s. HubSpot's CRM 429s may not; off by default. */
  retryAfterHeader?: boolean;
  /** When set, only this bearer token is accepted. */
  accessToken?: string;
  port?: number;
  behaviour?: Partial<SandboxBehaviour>;
}

/** An answer, its extra headers, or (`drop`) none at all: the connection is closed. */
type Answer = RouteAnswer & { headers?: Record<string, string> | undefined; drop?: boolean };

const ROUTES: Route[] = [
  ...objectRoutes,
  ...objectQueryRoutes,
  ...associationRoutes,
  ...listRoutes,
  ...propertyRoutes,
];

/**
 * A loopback HubSpot for tests, the demo and the benchmark: the CRM v3/v4, Lists v3 and
 * Properties v3 endpoints the connector uses, with HubSpot's shapes and errors, its rate-limit
 * headers and 429 bodies, a rolling 10-second limit, the search API's per-second limit, a daily
 * quota, and injectable latency, 5xx answers, refused inputs and search-index lag.
 *
 * @example
 * const sandbox = new HubSpotSandbox({ rateLimit: { max: 80, perMs: 10_000 } });
 * const { url } = await sandbox.start();   // settings.baseUrl = url
 * sandbox.faults.failNext({ status: 502 });
 * sandbox.faults.failNext({ path: /notes\/batch\/create$/, status: 500, applied: true }); // a lost answer
 * sandbox.log.maxInWindow(10_000);          // most requests in any 10 s
 * // from another process: GET /__sandbox/stats (figures), GET /__sandbox/log (requests)
 * await sandbox.stop();
 */
export class HubSpotSandbox {
  readonly store = new SandboxStore();
  readonly log = new RequestLog();
  readonly faults = new Faults();
  readonly behaviour: SandboxBehaviour;
  private window: RollingWindow;
  private searchWindow: RollingWindow;
  private dailyLimit: number;
  private dailyUsed = 0;
  private server: Server | undefined;
  private baseUrl: string | undefined;
  private active = 0;
  private connections = 0;
  /** Most requests in progress at once. */
  maxActiveRequests = 0;
  /** Most TCP connections open at once. */
  maxConnections = 0;

  constructor(private readonly options: HubSpotSandboxOptions = {}) {
    const limit = options.rateLimit ?? { max: 80, perMs: 10_000 };
    const search = options.searchLimit ?? { max: 5, perMs: 1000 };
    this.window = new RollingWindow(limit.max, limit.perMs);
    this.searchWindow = new RollingWindow(search.max, search.perMs);
    this.dailyLimit = options.dailyLimit ?? 250_000;
    this.behaviour = { validationReport: 'first', searchIndexLagMs: 0, ...options.behaviour };
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('the HubSpot sandbox is not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; port: number }> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.connections += 1;
      this.maxConnections = Math.max(this.maxConnections, this.connections);
      socket.on('close', () => {
        this.connections -= 1;
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return { url: this.baseUrl, port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  setRateLimit(max: number, perMs: number): void {
    this.window = new RollingWindow(max, perMs);
  }

  /** The traffic so far: what a benchmark reports (also at `GET /__sandbox/stats`). */
  stats(windowMs = this.window.perMs) {
    const served = (r: { rateLimited: boolean }) => !r.rateLimited;
    return {
      requests: this.log.count(),
      rateLimited: this.log.count((r) => r.rateLimited),
      serverErrors: this.log.count((r) => r.status >= 500),
      maxRequestsInWindow: this.log.maxInWindow(windowMs, served),
      windowMs,
      limit: { max: this.window.max, perMs: this.window.perMs },
      maxActiveRequests: this.maxActiveRequests,
      maxConnections: this.maxConnections,
      records: Object.fromEntries(
        [...this.store.objects.keys()].map((type) => [type, this.store.all(type).length]),
      ),
    };
  }

  /** What is left of the daily quota (and set it, to test pacing and exhaustion). */
  setDailyRemaining(remaining: number): void {
    this.dailyUsed = Math.max(0, this.dailyLimit - remaining);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.timeOrigin + performance.now();
    this.active += 1;
    this.maxActiveRequests = Math.max(this.maxActiveRequests, this.active);
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    // The sandbox's own door, outside HubSpot's API: not logged, limited or authenticated.
    if (url.pathname === '/__sandbox/stats') {
      this.active -= 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.stats()));
      return;
    }
    // Every request as logged, without the answers (a benchmark in another process reads when
    // each record arrived from the request bodies).
    if (url.pathname === '/__sandbox/log') {
      this.active -= 1;
      const entries = this.log.entries.map(({ answer: _answer, ...entry }) => entry);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
      return;
    }
    let body: unknown;
    let answer: Answer;
    let rateLimited = false;
    try {
      body = await readJson(req);
      const latency = this.faults.latencyFor(url.pathname);
      if (latency > 0) await delay(latency);
      answer = this.answer(method, url, body, req.headers.authorization);
      rateLimited = answer.status === 429;
    } catch (error) {
      answer =
        error instanceof SandboxHttpError
          ? { status: error.status, body: error.body, headers: error.headers }
          : {
              status: 500,
              body: errorBody('INTERNAL_ERROR', error instanceof Error ? error.message : String(error)),
            };
      rateLimited = answer.status === 429;
    }
    const logged = (status: number, answerBody: unknown, wasRateLimited: boolean) => {
      this.active -= 1;
      this.log.add({
        at,
        finishedAt: performance.timeOrigin + performance.now(),
        method,
        path: url.pathname,
        status,
        body,
        answer: answerBody,
        rateLimited: wasRateLimited,
      });
    };
    if (answer.drop) {
      req.socket.destroy();
      logged(0, undefined, false);
      return;
    }
    const now = Date.now();
    const headers: Record<string, string> = {
      'x-hubspot-ratelimit-max': String(this.window.max),
      'x-hubspot-ratelimit-remaining': String(this.window.remaining(now)),
      'x-hubspot-ratelimit-interval-milliseconds': String(this.window.perMs),
      'x-hubspot-ratelimit-daily': String(this.dailyLimit),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, this.dailyLimit - this.dailyUsed)),
      ...answer.headers,
    };
    if (answer.body === undefined) res.writeHead(answer.status, headers).end();
    else {
      res
        .writeHead(answer.status, { ...headers, 'content-type': 'application/json;charset=utf-8' })
        .end(JSON.stringify(answer.body));
    }
    logged(answer.status, answer.body, rateLimited);
  }

  private answer(method: string, url: URL, body: unknown, authorization: string | undefined): Answer {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token || (this.options.accessToken && token !== this.options.accessToken)) {
      throw new SandboxHttpError(
        401,
        errorBody(
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
        ),
      );
    }
    const now = Date.now();
    if (this.dailyUsed >= this.dailyLimit)
      return this.tooMany('DAILY', 'You have reached your daily limit.', 60_000);
    const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (route?.kind === 'search') {
      const slot = this.searchWindow.take(now);
      if (!slot.ok)
        return this.tooMany('SECONDLY', 'You have reached your secondly limit.', slot.retryAfterMs);
    }
    const slot = this.window.take(now);
    if (!slot.ok) {
      return this.tooMany(
        'TEN_SECONDLY_ROLLING',
        'You have reached your ten_secondly_rolling limit.',
        slot.retryAfterMs,
      );
    }
    this.dailyUsed += 1;
    const failure = this.faults.takeFailure(url.pathname);
    if (failure?.applied) {
      try {
        this.route(route, method, url, body);
      } catch {
        // Refused or not, the failure answers for it.
      }
    }
    if (failure?.drop) return { status: 0, drop: true };
    if (failure) {
      return {
        status: failure.status,
        body: failure.body ?? errorBody('INTERNAL_ERROR', `injected failure (${failure.status})`),
        headers: failure.headers,
      };
    }
    return this.route(route, method, url, body);
  }

  private route(route: Route | undefined, method: string, url: URL, body: unknown): RouteAnswer {
    if (!route)
      throw new SandboxHttpError(
        404,
        errorBody('OBJECT_NOT_FOUND', `No route for ${method} ${url.pathname}`),
      );
    const params = (route.pattern.exec(url.pathname)?.groups ?? {}) as Record<string, string>;
    return route.handle({
      params,
      query: url.searchParams,
      body,
      store: this.store,
      faults: this.faults,
      behaviour: this.behaviour,
    });
  }

  private tooMany(policyName: string, message: string, retryAfterMs: number) {
    return {
      status: 429,
      body: {
        status: 'error',
        message,
        errorType: 'RATE_LIMIT',
        correlationId: crypto.randomUUID(),
        policyName,
        groupName: 'sandbox',
      },
      headers: this.options.retryAfterHeader
        ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) }
        : undefined,
    };
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new SandboxHttpError(
      400,
      errorBody('VALIDATION_ERROR', `Invalid input JSON: ${text.slice(0, 80)}`),
    );
  }
}
