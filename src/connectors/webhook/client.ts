import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { classifyUnknown } from '../errors.js';
import type { ConnectorClient, ConnectorContext, ProviderRequest, PushRecord, PushResult } from '../types.js';
import { errorForAnswer, errorForFailure } from './classify.js';
import { buildDelivery, buildPing, externalIdFromAnswer } from './delivery.js';
import { createAgents, destroyAgents, type HttpAnswer, postJson } from './http-post.js';
import type { WebhookCredentials, WebhookSettings } from './settings.js';
import { guardedLookup, literalRefusal, type Resolve, resolveTarget, systemResolve } from './target-guard.js';

export const USER_AGENT = 'crm-sync-webhooks/1';

// Correlation ids are free text in the envelope; only header-safe ones travel as a header.
const SAFE_HEADER_VALUE = /^[\x21-\x7e]{1,200}$/;

export interface WebhookClientOptions {
  /** How host names resolve; tests swap in a fixed table (DNS rebinding, private answers). */
  resolve?: Resolve;
}

type WebhookContext = ConnectorContext<WebhookSettings, WebhookCredentials>;

/**
 * Delivers each record as one signed POST (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), in the batch's order. One POST per record keeps results, retries and the
 * receiver's deduplication per record; throughput comes from the engine running batches
 * concurrently under the account's rate budget.
 */
export function createWebhookClient(
  ctx: WebhookContext,
  options: WebhookClientOptions = {},
): ConnectorClient {
  const { settings, credentials } = ctx;
  const url = new URL(settings.url);
  // Errors and logs name the endpoint without its query string, which sometimes carries a token.
  const target = `${url.origin}${url.pathname}`;
  const policy = { allowPrivateNetwork: settings.allowPrivateNetwork };
  const resolve = options.resolve ?? systemResolve;
  const agents = createAgents(guardedLookup(policy, resolve));
  const signer = new Webhook(credentials.signingSecret);
  const secrets = [credentials.signingSecret, ...Object.values(credentials.headers)];

  async function send(id: string, body: string, correlationId?: string | null): Promise<HttpAnswer> {
    const refused = literalRefusal(url, policy);
    if (refused) throw refused;
    // Signed when the limiter lets the call run, not when it was queued: receivers reject
    // timestamps older than five minutes, and a retry is a new attempt with a new timestamp.
    const now = new Date();
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      ...settings.headers,
      ...credentials.headers,
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signer.sign(id, now, body),
    };
    if (correlationId && SAFE_HEADER_VALUE.test(correlationId)) headers['x-correlation-id'] = correlationId;
    const started = Date.now();
    let answer: HttpAnswer;
    try {
      answer = await postJson(url, body, { headers, timeoutMs: settings.timeoutMs, agents });
    } catch (error) {
      throw errorForFailure(error, target);
    }
    ctx.logger.debug({ webhookId: id, status: answer.status, ms: Date.now() - started }, 'webhook answered');
    const error = errorForAnswer(answer, target, secrets);
    if (error) throw error;
    return answer;
  }

  async function deliver(record: PushRecord, request: ProviderRequest): Promise<string | null> {
    const delivery = buildDelivery(record, ctx.integration.key);
    const body = JSON.stringify(delivery);
    const answer = await request(() => send(delivery.id, body, record.event.correlationId), {
      kind: 'delivery',
    });
    return externalIdFromAnswer(answer.body, answer.headers['content-type'], delivery.id);
  }

  return {
    /** Checks the SSRF policy against the host's addresses now, then sends a signed ping. */
    async check() {
      try {
        const addresses = await resolveTarget(url, policy, resolve);
        const ping = buildPing(`ping_${randomUUID()}`, ctx.integration.key, new Date());
        const answer = await ctx.request(() => send(ping.id, JSON.stringify(ping)), { kind: 'ping' });
        return {
          ok: true,
          account: target,
          message: `${target} (${addresses.join(', ')}) accepted a signed crm-sync.ping with ${answer.status}`,
        };
      } catch (error) {
        return { ok: false, account: target, message: errorForFailure(error, target).message };
      }
    },

    // Webhook payloads are free-form: any mapping target is a valid key.
    async describeFields() {
      return [];
    },

    async push(batch, request = ctx.request) {
      const results: PushResult[] = [];
      for (const [index, record] of batch.entries()) {
        // A receiver that gave the activity an id has it; a replay must not post it again.
        if (record.operation === 'activity' && record.externalId !== null) {
          results.push({ status: 'ok', externalId: record.externalId });
          continue;
        }
        try {
          const answered = await deliver(record, request);
          // A receiver that once wrote an id back need not repeat it on every delivery.
          results.push({ status: 'ok', externalId: answered ?? record.externalId });
        } catch (caught) {
          const error = classifyUnknown(caught);
          if (error.kind === 'permanent') {
            results.push({ status: 'error', error });
            continue;
          }
          // Anything else concerns the endpoint (down, rate limiting, refusing the signature,
          // refused by the SSRF guard): sending the rest now would only fail the same way.
          // Nothing delivered yet means the whole batch failed; else the delivered ones stand
          // and the rest carry the endpoint's error, unsent.
          if (index === 0) throw error;
          for (let rest = index; rest < batch.length; rest += 1) results.push({ status: 'error', error });
          break;
        }
      }
      return results;
    },

    async close() {
      destroyAgents(agents);
    },
  };
}
