import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmEvent, CrmEventInput } from '../../src/events/envelope.js';
import { CrmEvent as CrmEventSchema } from '../../src/events/envelope.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookIntegration,
} from '../helpers/webhook-receiver.js';

/**
 * What a sync queue keeps once its jobs complete: a batch of state changes carries every
 * record's snapshot and is removed; a delta's job is kept, so that routing the same event again
 * (the consumer died after routing, before it recorded the event) adds nothing.
 */
const secret = `whsec_${randomBytes(24).toString('base64')}`;
let h: EngineHarness;
let receiver: WebhookReceiver;
let integrationId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  h = await startEngineHarness();
  integrationId = (
    await h.applyIntegration(
      webhookIntegration(receiver, secret, {
        key: 'hooks-retention',
        name: 'Retention',
        events: ['CRM_CONTACT_UPDATED', 'CRM_CONTACT_TAG_ADDED'],
      }),
    )
  ).integration.id;
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

const parsed = (e: CrmEventInput): CrmEvent => CrmEventSchema.parse(e);
const idle = () =>
  waitFor('the sync queue to be idle', async () => {
    const counts = await h.engine.queueFor(integrationId).getJobCounts('waiting', 'delayed', 'active');
    return Object.values(counts).every((n) => n === 0);
  });
const deliveriesOf = (eventId: string) =>
  receiver.deliveries.filter((d) => 'event' in d.message && d.message.event.id === eventId);

describe('sync jobs once completed', () => {
  it('removes a batch of state changes, keeps a delta, and a delta routed twice is delivered once', async () => {
    const update = parsed(contactEvent({ contactId: 7001, version: 1 }));
    await h.engine.route(update);
    await waitFor('the update delivered', () => deliveriesOf(update.id).length === 1);
    await idle();
    expect(await h.engine.queueFor(integrationId).getCompletedCount()).toBe(0);

    const base = contactEvent({ contactId: 7001, version: 2, data: { tags: ['vip'] } });
    const tag = parsed({
      ...base,
      type: 'CRM_CONTACT_TAG_ADDED',
      data: { ...base.data, tag: 'vip' },
    } as CrmEventInput);
    await h.engine.route(tag);
    await waitFor('the tag delivered', () => deliveriesOf(tag.id).length === 1);
    await idle();
    expect(await h.engine.queueFor(integrationId).getCompletedCount()).toBe(1);

    // Routed again: its job id is taken, so nothing is queued and nothing is sent.
    await h.engine.route(tag);
    await idle();
    expect(deliveriesOf(tag.id)).toHaveLength(1);
    expect(await h.engine.queueFor(integrationId).getCompletedCount()).toBe(1);
  });
});
