import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { CrmEventInput } from '../../src/events/envelope.js';
import { contactEvent, type EngineHarness, startEngineHarness } from './engine-harness.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * What the fault tests share: an engine harness with one WEBHOOK integration pointed at a loopback
 * receiver, paced at 50 requests/s so that a fault lands while most of a burst is still to come,
 * and the checks that nothing was lost.
 */
export interface BurstRig {
  h: EngineHarness;
  receiver: WebhookReceiver;
  integrationId: string;
  /** `count` contact creates, ids `evt_<tag>_<i>`, contacts from `firstContact` on. */
  creates(count: number, tag: string, firstContact: number): CrmEventInput[];
  /** Records synced without a pending error. */
  linkedCount(): Promise<number>;
  /**
   * Every event reached the receiver (a record sent again after a cut-off carries the same
   * webhook-id, which receivers deduplicate on) and nothing was dead-lettered.
   */
  expectAllDeliveredNothingDeadLettered(events: CrmEventInput[]): Promise<void>;
  close(): Promise<void>;
}

export async function startBurstRig(
  key: string,
  envOverrides: Record<string, string> = {},
): Promise<BurstRig> {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = await startWebhookReceiver({ secret });
  const h = await startEngineHarness({}, envOverrides);
  const { integration } = await h.applyIntegration({
    key,
    organizationId: 'org_1',
    provider: 'WEBHOOK',
    name: `Webhooks through a fault (${key})`,
    credentials: { signingSecret: secret },
    settings: { url: receiver.url, allowPrivateNetwork: true, timeoutMs: 2000 },
    events: ['CRM_CONTACT_CREATED'],
    rateLimit: { max: 50, perMs: 1000 },
    retry: { attempts: 6, backoffMs: 100 },
  });
  const integrationId = integration.id;
  return {
    h,
    receiver,
    integrationId,
    creates: (count, tag, firstContact) =>
      Array.from({ length: count }, (_, i) =>
        contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: firstContact + i, id: `evt_${tag}_${i}` }),
      ),
    async linkedCount() {
      const { rows } = await h.ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM crm_sync.sync_links
          WHERE integration_id = $1 AND sync_hash IS NOT NULL AND last_error IS NULL`,
        [integrationId],
      );
      return rows[0]!.n;
    },
    async expectAllDeliveredNothingDeadLettered(events) {
      const delivered = new Set(receiver.deliveries.map((d) => d.webhookId));
      expect(events.filter((e) => !delivered.has(e.id))).toEqual([]);
      const { rows: failures } = await h.ctx.db.query(
        `SELECT failure_key, error_code, error_message FROM crm_sync.sync_failures`,
      );
      expect(failures).toEqual([]);
    },
    async close() {
      await h.close();
      await receiver.close();
    },
  };
}
