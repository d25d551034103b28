import http from 'node:http';
import https from 'node:https';
import { Client } from '@hubspot/api-client';
import { type ConnectorError, isConnectorError, RetryableError } from '../errors.js';
import type { ConnectorContext, ProviderRequest } from '../types.js';
import { classifyAnswer, dailyQuotaOf, type HubSpotAnswer, redact } from './hubspot-answer.js';
import { nextMidnight } from './quota-clock.js';
import type { HubSpotCredentials, HubSpotSettings } from './settings.js';

/**
 * The official SDK, built so that none of its process-wide decorators apply.
 *
 * `@hubspot/api-client` 13 keeps its limiter and retry decorators in a singleton
 * (`ApiDecoratorService`) that each `new Client()` overwrites, and an API object picks the list
 * up when it is first touched (lib/src/discovery/**: `getInstance().apply(new XApi(config))`).
 * Constructing a client without `limiterOptions` and with `numberOfApiCallRetries: 0` sets that
 * list to empty; touching every API object we use in the same synchronous turn pins them
 * undecorated, whatever another Client in the process does later. `client.apiRequest()` reads
 * the singleton on every call, so it is not used. Rate limits and retries are the engine's.
 */
export function createSdk(settings: HubSpotSettings, credentials: HubSpotCredentials) {
  const secure = settings.baseUrl.startsWith('https:');
  const httpAgent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 16 })
    : new http.Agent({ keepAlive: true, maxSockets: 16 });
  const client = new Client({
    accessToken: credentials.accessToken,
    basePath: settings.baseUrl.replace(/\/+$/, ''),
    numberOfApiCallRetries: 0,
    httpAgent,
  });
  return {
    objects: client.crm.objects.batchApi,
    objectSearch: client.crm.objects.searchApi,
    objectBasic: client.crm.objects.basicApi,
    contacts: client.crm.contacts.basicApi,
    associations: client.crm.associations.v4.batchApi,
    associationsBasic: client.crm.associations.v4.basicApi,
    lists: client.crm.lists.listsApi,
    memberships: client.crm.lists.membershipsApi,
    properties: client.crm.properties.coreApi,
    propertyBatch: client.crm.properties.batchApi,
    propertyGroups: client.crm.properties.groupsApi,
    close() {
      httpAgent.destroy();
    },
  };
}
export type HubSpotSdk = ReturnType<typeof createSdk>;

interface SdkResponse {
  httpStatusCode: number;
  headers: Record<string, string>;
  body: { text(): Promise<string>; binary(): Promise<Buffer> };
}

/** Per-call SDK options: a middleware that keeps HubSpot's raw answer (status, headers, body text). */
export interface CallOptions {
  middleware: {
    pre<T>(context: T): Promise<T>;
    post<T extends SdkResponse>(context: T): Promise<T>;
  }[];
  middlewareMergeStrategy: 'append';
}

function capturing(sink: { answer?: HubSpotAnswer }): CallOptions {
  return {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: async (context) => context,
        async post(context) {
          const text = await context.body.text();
          // The SDK reads the body again after us: hand it a body that can be read twice.
          context.body = { text: async () => text, binary: async () => Buffer.from(text) };
          sink.answer = { status: context.httpStatusCode, headers: context.headers, text };
          return context;
        },
      },
    ],
  };
}

export interface CallSpec {
  /** For messages and logs: `contacts batch upsert`. */
  what: string;
  /** `search` for the search API, which has its own per-second budget. */
  kind?: 'search';
}

/** What every module that talks to HubSpot gets: the SDK and the one way to send a request. */
export interface HubSpotCaller {
  sdk: HubSpotSdk;
  settings: HubSpotSettings;
  /**
   * Sends one SDK request through the engine's limiter (`ctx.request` or the push's), reports the daily quota
   * from the answer's headers, and turns any failure into a classified ConnectorError.
   */
  call<T>(
    spec: CallSpec,
    send: (options: CallOptions) => Promise<{ data: T; httpStatusCode: number }>,
  ): Promise<{ data: T; status: number }>;
}

/** `request`: the engine's, or the one a push was given (its calls are counted against it). */
export function createCaller(
  ctx: ConnectorContext<HubSpotSettings, HubSpotCredentials>,
  sdk: HubSpotSdk,
  request: ProviderRequest = ctx.request,
): HubSpotCaller {
  const { settings } = ctx;
  const secrets = [ctx.credentials.accessToken];
  const report = (answer: HubSpotAnswer | undefined) => {
    const quota = answer && dailyQuotaOf(answer.headers);
    if (quota) ctx.reportQuota?.({ ...quota, resetsAt: nextMidnight(new Date(), settings.timeZone) });
  };

  async function attempt<T>(
    spec: CallSpec,
    send: (options: CallOptions) => Promise<{ data: T; httpStatusCode: number }>,
  ) {
    const sink: { answer?: HubSpotAnswer } = {};
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RetryableError(`HubSpot ${spec.what}: no answer within ${settings.requestTimeoutMs} ms`),
          ),
        settings.requestTimeoutMs,
      );
    });
    try {
      const info = await Promise.race([send(capturing(sink)), timeout]);
      report(sink.answer);
      return { data: info.data, status: info.httpStatusCode };
    } catch (error) {
      report(sink.answer);
      throw toConnectorError(error, sink.answer, spec, settings.timeZone, secrets);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    sdk,
    settings,
    call(spec, send) {
      return request(() => attempt(spec, send), spec.kind ? { kind: spec.kind } : undefined);
    },
  };
}

function toConnectorError(
  error: unknown,
  answer: HubSpotAnswer | undefined,
  spec: CallSpec,
  timeZone: string,
  secrets: readonly string[],
): ConnectorError {
  if (isConnectorError(error)) return error;
  if (answer && answer.status >= 400) return classifyAnswer(answer, { what: spec.what, timeZone, secrets });
  const reason = redact(error instanceof Error ? error.message : String(error), secrets);
  // A 2xx the SDK could not read is HubSpot misbehaving, not this record: retry it.
  const status = answer ? ` (status ${answer.status})` : '';
  return new RetryableError(`HubSpot ${spec.what}: request failed${status}: ${reason.split('\n')[0]}`, {
    status: answer?.status,
    code: answer ? 'UNREADABLE_ANSWER' : 'NETWORK',
  });
}
