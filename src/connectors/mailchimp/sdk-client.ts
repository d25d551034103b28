import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';

/**
 * One `ApiClient` of the official SDK (@mailchimp/mailchimp_marketing) per integration.
 *
 * Why not the package's default export: it is a process-wide singleton whose `setConfig` every
 * integration would overwrite, so two accounts in one worker would send each other's keys.
 * `new ApiClient()` gives each integration its own key, base path and timeout.
 *
 * Two SDK defects this module steers around:
 * - `buildUrl` does `url.replace('server', config.server)` on the whole URL whenever
 *   `config.server` is set, so a base URL, list id or email containing "server" gets rewritten.
 *   We never set `config.server` (the base path already names the data center) and put
 *   subscriber hashes or contact ids, never emails, in paths.
 * - Its superagent errors hold the request, whose headers carry the key as Basic auth: they are
 *   translated at once (http-failure.ts) and never kept as a `cause`.
 *
 * - superagent 3, which it sends with, opens a new connection for every request (its default
 *   agent is `false`): a TCP and TLS handshake per call, and a request that leaves only once its
 *   connection is up, tens of milliseconds after the account's rate limiter let it start when
 *   this process is busy (traced in the Mailchimp benchmark: the one second with 9 requests,
 *   at Mailchimp's 8). The ApiClient's per-instance cookie hook sees every request before it is
 *   sent, so it hands each one this integration's keep-alive agent; no cookies are kept.
 *
 * The package has no types for this entry point (@types covers the singleton), so the handful of
 * methods used here are typed below; answers are validated with zod where they are used.
 */
export interface MailchimpSdk {
  basePath: string;
  timeout: number;
  setConfig(config: { apiKey: string }): void;
  /** Ends this client's kept-alive connections. */
  close(): void;
  root: {
    getRoot(opts?: { fields?: string[] }): Promise<unknown>;
  };
  lists: {
    getList(listId: string, opts?: { fields?: string[] }): Promise<unknown>;
    getListMergeFields(listId: string, opts?: { count?: number; offset?: number }): Promise<unknown>;
    addListMergeField(listId: string, body: Record<string, unknown>): Promise<unknown>;
    batchListMembers(listId: string, body: Record<string, unknown>): Promise<unknown>;
    setListMember(listId: string, hash: string, body: Record<string, unknown>): Promise<unknown>;
    updateListMember(listId: string, hash: string, body: Record<string, unknown>): Promise<unknown>;
    getListMember(listId: string, hash: string, opts?: { fields?: string[] }): Promise<unknown>;
    deleteListMember(listId: string, hash: string): Promise<unknown>;
    deleteListMemberPermanent(listId: string, hash: string): Promise<unknown>;
    updateListMemberTags(listId: string, hash: string, body: Record<string, unknown>): Promise<unknown>;
    createListMemberNote(listId: string, hash: string, body: Record<string, unknown>): Promise<unknown>;
    createListMemberEvent(listId: string, hash: string, body: Record<string, unknown>): Promise<unknown>;
    /** `opts` in the API's own (snake_case) names, which the SDK passes through as the query. */
    getListMemberNotes(
      listId: string,
      hash: string,
      opts?: Record<string, string | number>,
    ): Promise<unknown>;
    getListMemberEvents(
      listId: string,
      hash: string,
      opts?: Record<string, string | number>,
    ): Promise<unknown>;
    listSegments(listId: string, opts?: { type?: string; count?: number; offset?: number }): Promise<unknown>;
    createSegment(listId: string, body: Record<string, unknown>): Promise<unknown>;
    batchSegmentMembers(body: Record<string, unknown>, listId: string, segmentId: string): Promise<unknown>;
  };
  batches: {
    start(body: Record<string, unknown>): Promise<unknown>;
    status(batchId: string): Promise<unknown>;
    deleteRequest(batchId: string): Promise<unknown>;
  };
}

const require = createRequire(import.meta.url);

/** The part of superagent's request the cookie hook uses. */
interface SuperagentRequest {
  agent(agent: http.Agent): unknown;
}

/**
 * The SDK's cookie hook as a connection pool: with `enableCookies` set, `callApi` gives every
 * request to `agent.attachCookies` before sending it, and every answer to `agent.saveCookies`.
 */
function pooledConnections(agent: http.Agent) {
  return {
    attachCookies(request: SuperagentRequest) {
      request.agent(agent);
    },
    saveCookies() {},
  };
}

export function createSdk(options: { apiKey: string; baseUrl: string; timeoutMs: number }): MailchimpSdk {
  const ApiClient = require('@mailchimp/mailchimp_marketing/src/ApiClient.js') as new () => Omit<
    MailchimpSdk,
    'close'
  > & { enableCookies: boolean; agent: unknown };
  const sdk = new ApiClient();
  sdk.basePath = options.baseUrl;
  sdk.timeout = options.timeoutMs;
  sdk.setConfig({ apiKey: options.apiKey });
  // Mailchimp allows 10 connections at once per account; the limiter keeps requests in flight to
  // that account-wide. Whether Mailchimp also counts idle kept-alive connections is not
  // documented, so each client keeps at most two idle (a worker's pushes use one or two), for 4 s
  // (`timeout` closes idle sockets only; an answer slower than that still arrives): a burst
  // reuses them, and they close before a server's usual 5 s keep-alive could close one under a
  // request just sent on it.
  const pool = { keepAlive: true, maxSockets: 10, maxFreeSockets: 2, timeout: 4_000 };
  const agent = options.baseUrl.startsWith('https:') ? new https.Agent(pool) : new http.Agent(pool);
  sdk.enableCookies = true;
  sdk.agent = pooledConnections(agent);
  return Object.assign(sdk, { close: () => agent.destroy() });
}
