import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { WebhookDelivery, WebhookPing } from '../delivery.js';
import { maxInWindow, SlidingWindow } from './request-window.js';

/**
 * A loopback webhook receiver that behaves like a strict real one: it verifies every signature
 * with the Standard Webhooks library, rejects what is not a crm-sync message, and can be made
 * slow, rate limited or failing, per request or per input. Tests, the demo and the benchmark
 * point the webhook connector at it and inspect what arrived and when.
 *
 * @example
 * const sandbox = new WebhookSandbox({ secret });
 * const { url } = await sandbox.start();
 * sandbox.respondWith(503, { times: 2 });          // the next two deliveries fail, then recover
 * sandbox.failWhen((d) => d.message.payload?.email === 'bad@example.com', 400);
 * await sandbox.waitForDeliveries(10);
 * await sandbox.stop();
 */

export const SandboxMessage = z.union([WebhookDelivery, WebhookPing]);
export type SandboxMessage = z.infer<typeof SandboxMessage>;

/** Every request that reached the server, answered or not. */
export interface SandboxRequest {
  seq: number;
  receivedAt: number;
  answeredAt: number | null;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  webhookId: string | null;
  /** The signature checked out with the configured secret. */
  verified: boolean;
  status: number | null;
}

/** A verified crm-sync message the sandbox accepted (answered 2xx). */
export interface SandboxDelivery {
  webhookId: string;
  /** The `webhook-timestamp` header, seconds. */
  timestamp: number;
  receivedAt: number;
  headers: IncomingHttpHeaders;
  message: SandboxMessage;
  /** 1 for the first request carrying this webhook-id, 2 for its first retry or replay, … */
  attempt: number;
  duplicate: boolean;
}

/** What a verified request is about, for responders and per-input faults. */
export interface DeliveryAttempt {
  webhookId: string;
  message: SandboxMessage & { payload?: Record<string, unknown> };
  headers: IncomingHttpHeaders;
  /** Requests with this webhook-id so far, this one included. */
  attempt: number;
}

export type Answer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answer: the client's timeout is what ends the request. */
  | { hang: true };

export type Responder =
  | number
  | Answer
  | ((attempt: DeliveryAttempt) => number | Answer | undefined | Promise<number | Answer | undefined>);

interface Rule {
  responder: Responder;
  match: ((attempt: DeliveryAttempt) => boolean) | null;
  remaining: number | null;
}

export interface WebhookSandboxOptions {
  /** The integration's signing secret (`whsec_…`). */
  secret: string;
  /** The path deliveries are accepted on; others get 404. Default `/hooks`. */
  path?: string;
  /** Answer 429 with Retry-After beyond `max` admitted requests per `perMs` (sliding window). */
  rateLimit?: { max: number; perMs: number } | null;
  /** Added before every answer. */
  latencyMs?: number;
}

const DEFAULT_ANSWER: Answer = { status: 200, body: { received: true } };

export class WebhookSandbox {
  readonly requests: SandboxRequest[] = [];
  readonly deliveries: SandboxDelivery[] = [];
  /** Requests being handled now, and the most at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** TCP connections open now, and the most at once (keep-alive sockets stay open between requests). */
  openConnections = 0;
  maxOpenConnections = 0;

  private readonly verifier: Webhook;
  private readonly path: string;
  private window: SlidingWindow | null = null;
  private latencyMs: number;
  private rules: Rule[] = [];
  private fallback: Responder = DEFAULT_ANSWER;
  private readonly attemptsById = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private seq = 0;

  constructor(options: WebhookSandboxOptions) {
    this.verifier = new Webhook(options.secret);
    this.path = options.path ?? '/hooks';
    this.latencyMs = options.latencyMs ?? 0;
    this.setRateLimit(options.rateLimit ?? null);
  }

  async start(): Promise<{ url: string; port: number }> {
    // A client that gives up mid-request (its timeout) must not become an unhandled rejection here.
    const server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      this.openConnections += 1;
      this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openConnections);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.openConnections -= 1;
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}${this.path}`, port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // Hanging requests and idle keep-alive sockets would otherwise hold close() open.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Answers verified requests with `responder`: for the next `times` requests only, or from now
   * on when `times` is left out. A function may return undefined to fall through.
   */
  respondWith(responder: Responder, options: { times?: number } = {}): void {
    if (options.times === undefined) this.fallback = responder;
    else this.rules.push({ responder, match: null, remaining: options.times });
  }

  /** Per-input fault: deliveries matching `match` get `responder` (e.g. 400 for one email). */
  failWhen(
    match: (attempt: DeliveryAttempt) => boolean,
    responder: Responder,
    options: { times?: number } = {},
  ) {
    this.rules.push({ responder, match, remaining: options.times ?? null });
  }

  /** Back to accepting everything at once. */
  resetFaults(): void {
    this.rules = [];
    this.fallback = DEFAULT_ANSWER;
    this.latencyMs = 0;
    this.window = null;
  }

  setRateLimit(limit: { max: number; perMs: number } | null): void {
    this.window = limit ? new SlidingWindow(limit.max, limit.perMs) : null;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** The most requests that arrived within any `windowMs` (to check a client's rate limit). */
  maxRequestsInWindow(windowMs: number): number {
    return maxInWindow(
      this.requests.map((r) => r.receivedAt),
      windowMs,
    );
  }

  /** Distinct webhook-ids accepted: what a deduplicating receiver processed. */
  uniqueDeliveryIds(): Set<string> {
    return new Set(this.deliveries.map((d) => d.webhookId));
  }

  /** Resolves once at least `count` deliveries were accepted; rejects after `timeoutMs`. */
  waitForDeliveries(count: number, timeoutMs = 15_000): Promise<SandboxDelivery[]> {
    if (this.deliveries.length >= count) return Promise.resolve(this.deliveries.slice());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} deliveries (got ${this.deliveries.length})`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (this.deliveries.length < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.deliveries.slice());
      };
      this.waiters.add(check);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => {
      this.inFlight -= 1;
    });
    const entry: SandboxRequest = {
      seq: ++this.seq,
      receivedAt: Date.now(),
      answeredAt: null,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: '',
      webhookId: typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'] : null,
      verified: false,
      status: null,
    };
    this.requests.push(entry);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    entry.body = Buffer.concat(chunks).toString('utf8');

    let decided: Awaited<ReturnType<WebhookSandbox['decide']>>;
    try {
      decided = await this.decide(entry);
    } catch (error) {
      // A test's responder threw: answer like a crashing receiver would, and keep serving.
      decided = { answer: { status: 500, body: { error: `responder failed: ${(error as Error).message}` } } };
    }
    const { answer, accepted } = decided;
    if ('hang' in answer) return;
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...(body === '' ? {} : { 'content-type': 'application/json' }),
      ...answer.headers,
    });
    res.end(body);
    entry.status = answer.status;
    entry.answeredAt = Date.now();
    // Counted once answered, so a test that saw N deliveries also sees N answers sent.
    if (accepted && answer.status >= 200 && answer.status < 300) this.accept(entry, accepted);
  }

  private async decide(entry: SandboxRequest): Promise<{ answer: Answer; accepted?: DeliveryAttempt }> {
    if (entry.method !== 'POST' || entry.path.split('?')[0] !== this.path) {
      return { answer: { status: 404, body: { error: `no receiver at ${entry.method} ${entry.path}` } } };
    }
    if (this.window) {
      const admitted = this.window.admit(entry.receivedAt);
      if (!admitted.ok) {
        const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        const headers = { 'retry-after': String(seconds) };
        return { answer: { status: 429, headers, body: { error: 'rate limited' } } };
      }
    }
    let parsed: unknown;
    try {
      parsed = this.verifier.verify(entry.body, entry.headers as Record<string, string>);
    } catch (error) {
      return { answer: { status: 401, body: { error: `signature: ${(error as Error).message}` } } };
    }
    entry.verified = true;
    const message = SandboxMessage.safeParse(parsed);
    if (!message.success) {
      return {
        answer: { status: 400, body: { error: 'not a crm-sync message', issues: message.error.issues } },
      };
    }
    const webhookId = entry.webhookId as string;
    const attemptNo = (this.attemptsById.get(webhookId) ?? 0) + 1;
    this.attemptsById.set(webhookId, attemptNo);
    const attempt: DeliveryAttempt = {
      webhookId,
      message: message.data,
      headers: entry.headers,
      attempt: attemptNo,
    };

    const answer =
      (await this.ruleAnswer(attempt)) ?? (await resolveResponder(this.fallback, attempt)) ?? DEFAULT_ANSWER;
    return { answer, accepted: attempt };
  }

  private async ruleAnswer(attempt: DeliveryAttempt): Promise<Answer | undefined> {
    for (const rule of this.rules) {
      if (rule.remaining === 0 || (rule.match && !rule.match(attempt))) continue;
      const answer = await resolveResponder(rule.responder, attempt).catch((error: unknown) => {
        if (rule.remaining !== null) rule.remaining -= 1; // a throwing responder used its turn
        throw error;
      });
      if (answer === undefined) continue;
      if (rule.remaining !== null) rule.remaining -= 1;
      return answer;
    }
    return undefined;
  }

  private accept(entry: SandboxRequest, attempt: DeliveryAttempt): void {
    const duplicate = this.deliveries.some((d) => d.webhookId === attempt.webhookId);
    this.deliveries.push({
      webhookId: attempt.webhookId,
      timestamp: Number(entry.headers['webhook-timestamp']),
      receivedAt: entry.receivedAt,
      headers: entry.headers,
      message: attempt.message,
      attempt: attempt.attempt,
      duplicate,
    });
    for (const waiter of [...this.waiters]) waiter();
  }
}

async function resolveResponder(responder: Responder, attempt: DeliveryAttempt): Promise<Answer | undefined> {
  const value = typeof responder === 'function' ? await responder(attempt) : responder;
  return typeof value === 'number' ? { status: value } : value;
}
