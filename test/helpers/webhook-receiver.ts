import {
  type DeliveryAttempt,
  type Responder,
  type SandboxDelivery,
  type SandboxRequest,
  WebhookSandbox,
  type WebhookSandboxOptions,
} from '../../src/connectors/webhook/sandbox/webhook-sandbox.js';
import type { IntegrationConfigInput } from '../../src/integrations/schema.js';

/**
 * A loopback webhook receiver for tests: every delivery's signature is checked with the
 * Standard Webhooks library's `Webhook.verify`, verified deliveries are recorded, and it can be
 * told what to answer. Point a WEBHOOK integration at `url` with `allowPrivateNetwork: true`.
 *
 * @example
 * const receiver = await startWebhookReceiver({ secret });
 * receiver.respondWith(500, { times: 2 });   // fail twice, then recover
 * await receiver.waitForDeliveries(3);
 * expect(receiver.deliveries[0]?.message.type).toBe('CRM_CONTACT_CREATED');
 * await receiver.close();
 */
export interface WebhookReceiver {
  url: string;
  port: number;
  /** Verified deliveries answered 2xx, in arrival order (retries of one webhook-id included). */
  readonly deliveries: SandboxDelivery[];
  /** Every request, verified or not, with its answer and timestamps. */
  readonly requests: SandboxRequest[];
  respondWith(responder: Responder, options?: { times?: number }): void;
  failWhen(
    match: (attempt: DeliveryAttempt) => boolean,
    responder: Responder,
    options?: { times?: number },
  ): void;
  waitForDeliveries(count: number, timeoutMs?: number): Promise<SandboxDelivery[]>;
  /** The simulator underneath: rate limit, latency, window counts, connection counts. */
  sandbox: WebhookSandbox;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookSandboxOptions): Promise<WebhookReceiver> {
  const sandbox = new WebhookSandbox(options);
  const { url, port } = await sandbox.start();
  return {
    url,
    port,
    get deliveries() {
      return sandbox.deliveries;
    },
    get requests() {
      return sandbox.requests;
    },
    respondWith: (responder, opts) => sandbox.respondWith(responder, opts),
    failWhen: (match, responder, opts) => sandbox.failWhen(match, responder, opts),
    waitForDeliveries: (count, timeoutMs) => sandbox.waitForDeliveries(count, timeoutMs),
    sandbox,
    close: () => sandbox.stop(),
  };
}

/**
 * A WEBHOOK integration of `org_1` that delivers to `receiver`, signed with `secret`; a test adds
 * its key, name and whatever it is about (events, retry, rate limit…).
 */
export function webhookIntegration(
  receiver: WebhookReceiver,
  secret: string,
  config: Pick<IntegrationConfigInput, 'key' | 'name'> & Partial<IntegrationConfigInput>,
): IntegrationConfigInput {
  return {
    organizationId: 'org_1',
    provider: 'WEBHOOK',
    credentials: { signingSecret: secret },
    settings: { url: receiver.url, allowPrivateNetwork: true },
    ...config,
  };
}
