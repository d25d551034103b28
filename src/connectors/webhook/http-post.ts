import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * The one HTTP call the connector makes: POST a body, read a bounded answer. node:http, not
 * fetch: node's global fetch cannot take a custom `lookup` without undici's dispatcher, and the
 * SSRF guard must sit in the lookup. node:http never follows redirects either.
 */

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** At most `maxAnswerBytes` of the answer, decoded as UTF-8. */
  body: string;
}

export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/** Keep-alive agents whose every new connection resolves its host through `lookup`. */
export function createAgents(lookup: LookupFunction, maxSockets = 10): Agents {
  const options = { keepAlive: true, maxSockets, lookup };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

export function destroyAgents(agents: Agents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/** No answer within the deadline; `code` is what the error table keys on. */
export class RequestTimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  agents: Agents;
  /** Receivers answer little; a huge answer is cut, not buffered. */
  maxAnswerBytes?: number;
}

export function postJson(url: URL, body: string, options: PostOptions): Promise<HttpAnswer> {
  const maxBytes = options.maxAnswerBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const agent = url.protocol === 'https:' ? options.agents.https : options.agents.http;
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent,
      headers: { ...options.headers, 'content-length': Buffer.byteLength(body) },
    });
    // One deadline for the whole attempt (lookup, connect, TLS, answer): the socket `timeout`
    // option only measures idleness, so a trickling receiver could hold a worker forever.
    const timer = setTimeout(() => {
      request.destroy(new RequestTimeoutError(`no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < maxBytes) chunks.push(chunk.subarray(0, maxBytes - size));
        size += chunk.length;
      });
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    request.end(body);
  });
}
