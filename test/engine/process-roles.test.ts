import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookIntegration,
} from '../helpers/webhook-receiver.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
let h: EngineHarness;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  // This engine only consumes and routes; nothing here may push.
  h = await startEngineHarness({ role: 'events' });
  await h.applyIntegration(
    webhookIntegration(receiver, secret, {
      key: 'roles-hooks',
      name: 'Roles',
      events: ['CRM_CONTACT_UPDATED'],
    }),
  );
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

describe('routing and syncing in separate engines', () => {
  it('routes without pushing, and a sync-only engine pushes what was routed', async () => {
    const event = contactEvent({ contactId: 801, version: 1 });
    await h.publish(event);
    const queue = h.engine.queueFor(
      (await h.ctx.db.query(`SELECT id FROM crm_sync.integrations`)).rows[0].id,
    );
    await waitFor('the routed sync job', async () => {
      const counts = await queue.getJobCounts('delayed', 'wait');
      return (counts.delayed ?? 0) + (counts.wait ?? 0) > 0;
    });
    // No sync worker listens on the integration's queue in a routing-only engine.
    expect(await queue.getWorkers()).toHaveLength(0);
    expect(receiver.requests).toHaveLength(0);

    await h.startAnotherEngine({ role: 'sync' });
    await waitFor("the sync engine's worker", async () => (await queue.getWorkers()).length === 1);
    await waitFor('the delivery by the sync engine', () => receiver.deliveries.length === 1);
    expect(receiver.deliveries[0]!.webhookId).toBe(event.id);
  });
});
