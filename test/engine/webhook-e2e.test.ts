import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookDelivery } from '../../src/connectors/webhook/delivery.js';
import type { SandboxMessage } from '../../src/connectors/webhook/sandbox/webhook-sandbox.js';
import { NewestChangeStore } from '../../src/engine/newest-change-store.js';
import { orderOf } from '../../src/engine/record-order.js';
import { syncNewest } from '../../src/engine/sync-batch.js';
import { CrmEvent } from '../../src/events/envelope.js';
import type { IntegrationConfigInput } from '../../src/integrations/schema.js';
import { silentLogger } from '../../src/logging/logger.js';
import { metricsRegistry } from '../../src/metrics/registry.js';
import { syncedRecordCount } from '../../src/metrics/sync-metrics.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;

let h: EngineHarness;
let receiver: WebhookReceiver;
let integrationId: string;
let nextContact = 100;

function hooks(over: Partial<IntegrationConfigInput> = {}): IntegrationConfigInput {
  return {
    key: 'hooks',
    organizationId: 'org_1',
    provider: 'WEBHOOK',
    name: 'Signed webhooks',
    credentials: { signingSecret: secret },
    settings: { url: receiver.url, allowPrivateNetwork: true, timeoutMs: 2000 },
    events: ['CRM_CONTACT_CREATED', 'CRM_CONTACT_UPDATED'],
    mappings: {
      contact: {
        fields: [
          { source: 'email', target: 'email' },
          { source: 'givenName', target: 'first_name' },
        ],
      },
    },
    retry: { attempts: 4, backoffMs: 40 },
    ...over,
  };
}

/** The crm-sync message of a delivery (pings have no record). */
const messageOf = (m: SandboxMessage): WebhookDelivery => {
  if (!('entity' in m)) throw new Error(`expected a record delivery, got ${m.type}`);
  return m;
};
const entityIdOf = (m: SandboxMessage | { payload?: unknown }) => ('entity' in m ? m.entity.id : undefined);
const deliveriesFor = (contactId: number) =>
  receiver.deliveries.filter((d) => entityIdOf(d.message) === String(contactId));
const payloadOf = (d: { message: SandboxMessage }) => messageOf(d.message).payload as { first_name?: string };

async function linkOf(contactId: number) {
  const { rows } = await h.ctx.db.query(
    `SELECT * FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = 'contact' AND entity_id = $2`,
    [integrationId, String(contactId)],
  );
  return rows[0] as Record<string, unknown> | undefined;
}

async function logOf(contactId: number) {
  const { rows } = await h.ctx.db.query(
    `SELECT action, result, event_id FROM crm_sync.sync_log WHERE integration_id = $1 AND entity_id = $2 ORDER BY id`,
    [integrationId, String(contactId)],
  );
  return rows as { action: string; result: string; event_id: string }[];
}

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  h = await startEngineHarness();
  integrationId = (await h.applyIntegration(hooks())).integration.id;
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

afterEach(() => {
  receiver.respondWith(200);
});

describe('the sync engine, end to end through a signed webhook', () => {
  it('pushes a created contact, signed, and links it', async () => {
    const id = nextContact++;
    await h.publish(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 }));
    const [delivery] = await waitFor(
      'the delivery',
      () => deliveriesFor(id).length === 1 && deliveriesFor(id),
    );
    // The receiver verified the signature with the Standard Webhooks library before recording it.
    expect(messageOf(delivery!.message).payload).toEqual({
      email: `person${id}@example.com`,
      first_name: 'Ada',
    });
    const link = await waitFor('the link', () => linkOf(id).then((l) => (l?.sync_hash ? l : undefined)));
    expect(link).toMatchObject({ crm_external_id: `ctc_${id}`, last_version: 1, last_error: null });
  });

  it('delivers the same event once when it is published twice', async () => {
    const id = nextContact++;
    const event = contactEvent({ contactId: id, version: 1 });
    await h.publish(event);
    await waitFor('the first delivery', () => deliveriesFor(id).length === 1);
    await h.publish(event);
    await h.publish({ ...event });
    const later = contactEvent({ contactId: id, version: 2, data: { givenName: 'Ada B.' } });
    await h.publish(later);
    await waitFor('the later change', () => deliveriesFor(id).length === 2);
    expect(deliveriesFor(id).map((d) => messageOf(d.message).event.id)).toEqual([event.id, later.id]);
  });

  it('makes no call when the mapped payload is unchanged', async () => {
    const id = nextContact++;
    await h.publish(contactEvent({ contactId: id, version: 1 }));
    await waitFor('the first delivery', () => deliveriesFor(id).length === 1);
    // A change to a field the mapping does not send: the mapped payload hashes the same.
    const unchanged = contactEvent({ contactId: id, version: 2, data: { phone: '+44 20 7946 0000' } });
    await h.publish(unchanged);
    await waitFor('the skip in the sync log', async () =>
      (await logOf(id)).find((r) => r.event_id === unchanged.id && r.result === 'skipped'),
    );
    expect(deliveriesFor(id)).toHaveLength(1);
    expect(await linkOf(id)).toMatchObject({ last_version: 2 });
  });

  it('counts each record attempt in crm_sync_records_total, once it is logged', async () => {
    // An integration of its own organization, so no other test's records reach its counter.
    await h.applyIntegration(hooks({ key: 'hooks-counted', organizationId: 'org_counted' }));
    const id = nextContact++;
    const inOrg = (e: ReturnType<typeof contactEvent>) => ({ ...e, organizationId: 'org_counted' });
    await h.publish(inOrg(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1 })));
    await waitFor(
      'the success to be counted',
      async () => (await syncedRecordCount('hooks-counted', 'success')) === 1,
    );
    // Unchanged mapped payload: skipped, no delivery.
    await h.publish(inOrg(contactEvent({ contactId: id, version: 2, data: { phone: '+44 20 7946 0000' } })));
    await waitFor(
      'the skip to be counted',
      async () => (await syncedRecordCount('hooks-counted', 'skipped')) === 1,
    );
    const { rows } = await h.ctx.db.query(
      `SELECT result, count(*)::int AS n FROM crm_sync.sync_log l JOIN crm_sync.integrations i ON i.id = l.integration_id
        WHERE i.key = 'hooks-counted' GROUP BY result ORDER BY result`,
    );
    expect(rows).toEqual([
      { result: 'skipped', n: 1 },
      { result: 'success', n: 1 },
    ]);
    expect(await syncedRecordCount('hooks-counted', 'success')).toBe(1);
    const exposed = await metricsRegistry.getSingleMetricAsString('crm_sync_records_total');
    expect(exposed).toContain('crm_sync_records_total{integration="hooks-counted",result="success"} 1');
  });

  it('pushes only the newest of two changes of a record that met in one batch, and logs the older as superseded', async () => {
    // The micro-batcher's flush, as the sync worker calls it: the first change's job had started
    // (the processor's own check passed) before the second was routed, and both sat in one batch.
    const id = nextContact++;
    const rt = (await h.engine.registry.get(integrationId))!;
    const latest = new NewestChangeStore(h.ctx.redis(), h.prefix);
    const change = (version: number, givenName: string) => {
      const event = CrmEvent.parse(contactEvent({ contactId: id, version, data: { givenName } }));
      return {
        event,
        ref: { entityType: 'contact' as const, entityId: String(id) },
        operation: 'upsert' as const,
        attemptsMade: 0,
      };
    };
    const [older, newer] = [change(1, 'Older'), change(2, 'Newer')];
    for (const { event, ref } of [older, newer])
      await latest.offer(integrationId, ref, event, orderOf(event));

    const outcomes = await syncNewest(rt, [older, newer], {
      db: h.ctx.db,
      logger: silentLogger,
      pauseIntegration: async () => {},
      latest,
    });

    expect(outcomes).toEqual([
      { kind: 'skipped', reason: 'superseded' },
      { kind: 'synced', externalId: null },
    ]);
    expect(deliveriesFor(id).map((d) => payloadOf(d).first_name)).toEqual(['Newer']);
    expect((await logOf(id)).map((r) => [r.event_id, r.result])).toEqual(
      expect.arrayContaining([
        [older.event.id, 'skipped'],
        [newer.event.id, 'success'],
      ]),
    );
    await latest.close();
  });

  it('delivers the last of 20 rapid updates, in far fewer than 20 deliveries', async () => {
    const id = nextContact++;
    for (let v = 1; v <= 20; v++) {
      await h.publish(contactEvent({ contactId: id, version: v, data: { givenName: `Ada ${v}` } }));
    }
    await waitFor('the last state', () =>
      deliveriesFor(id).some((d) => payloadOf(d).first_name === 'Ada 20'),
    );
    // The receiver records a delivery as it answers, before the engine stores the link.
    await waitFor('the link at version 20', () => linkOf(id).then((l) => l?.last_version === 20));
    const delivered = deliveriesFor(id);
    expect(delivered.length).toBeLessThanOrEqual(5);
    expect(payloadOf(delivered.at(-1)!)).toMatchObject({ first_name: 'Ada 20' });
  });

  it('skips an older version that arrives after a newer one', async () => {
    const id = nextContact++;
    await h.publish(contactEvent({ contactId: id, version: 5, data: { givenName: 'New' } }));
    await waitFor('the newer delivery', () => deliveriesFor(id).length === 1);
    const old = contactEvent({ contactId: id, version: 4, data: { givenName: 'Old' } });
    await h.publish(old);
    await waitFor('the stale skip', async () =>
      (await logOf(id)).find((r) => r.event_id === old.id && r.result === 'skipped'),
    );
    expect(deliveriesFor(id)).toHaveLength(1);
    expect(await linkOf(id)).toMatchObject({ last_version: 5 });
  });

  it('retries while the receiver answers 500 and delivers once it recovers', async () => {
    const id = nextContact++;
    receiver.failWhen((a) => entityIdOf(a.message) === String(id), 500, { times: 2 });
    await h.publish(contactEvent({ contactId: id, version: 1 }));
    const [delivery] = await waitFor(
      'the delivery after retries',
      () => deliveriesFor(id).length === 1 && deliveriesFor(id),
    );
    expect(delivery!.attempt).toBe(3);
    const log = await waitFor('the success row', async () => {
      const rows = await logOf(id);
      return rows.some((r) => r.result === 'success') && rows;
    });
    expect(log.map((r) => r.result)).toEqual(['retrying', 'retrying', 'success']);
  });

  it('dead-letters a 400 at once, and a replay after the fix delivers it once', async () => {
    const id = nextContact++;
    // The receiver rejects the record once; it is "fixed" before the replay.
    receiver.failWhen(
      (a) => entityIdOf(a.message) === String(id),
      { status: 400, body: { error: 'bad email' } },
      { times: 1 },
    );
    const event = contactEvent({ contactId: id, version: 1 });
    await h.publish(event);
    const failure = await waitFor('the dead letter', async () => {
      const { rows } = await h.ctx.db.query(
        `SELECT id, error_kind, provider_status, attempts, status FROM crm_sync.sync_failures WHERE entity_id = $1`,
        [String(id)],
      );
      return rows[0] as
        | { id: number; error_kind: string; provider_status: number; attempts: number }
        | undefined;
    });
    expect(failure).toMatchObject({
      error_kind: 'permanent',
      provider_status: 400,
      attempts: 1,
      status: 'open',
    });
    expect(deliveriesFor(id)).toHaveLength(0);
    expect(receiver.requests.filter((r) => r.body.includes(`"id":"${id}"`))).toHaveLength(1);

    const results = await h.engine.replay({ ids: [failure.id] });
    expect(results).toEqual([expect.objectContaining({ id: failure.id, status: 'queued' })]);
    await waitFor('the replayed delivery', () => deliveriesFor(id).length === 1);
    const closed = await waitFor('the dead letter to be marked', async () => {
      const { rows } = await h.ctx.db.query(
        `SELECT status, replay_count FROM crm_sync.sync_failures WHERE entity_id = $1`,
        [String(id)],
      );
      return rows.length === 1 && rows[0].status === 'replayed' && rows;
    });
    expect(closed).toEqual([{ status: 'replayed', replay_count: 1 }]);
    // Replaying it again changes nothing: it is no longer open.
    expect(await h.engine.replay({ ids: [failure.id] })).toEqual([
      expect.objectContaining({ status: 'not_replayable' }),
    ]);
    await waitFor('the link', () => linkOf(id).then((l) => l?.sync_hash));
    expect(deliveriesFor(id)).toHaveLength(1);
  });

  it('dead-letters the records of a sync job its workers kept dying on, and replays them', async () => {
    const id = nextContact++;
    const queue = h.engine.queueFor(integrationId);
    await queue.pause();
    const event = contactEvent({ contactId: id, version: 1 });
    try {
      await h.publish(event);
      const job = await waitFor('the sync job', async () => {
        const jobs = await queue.getJobs(['wait', 'delayed', 'prioritized']);
        return jobs.find((j) => JSON.stringify(j.data).includes(event.id));
      });
      // What BullMQ's stalled checker leaves on a job whose worker died with it a second time.
      await h.ctx
        .redis()
        .hset(`${h.prefix}:${queue.name}:${job.id}`, 'defa', 'job stalled more than allowable limit');
    } finally {
      await queue.resume();
    }
    const failure = await waitFor('the dead letter', async () => {
      const { rows } = await h.ctx.db.query(
        `SELECT id, stage, error_kind, error_code, error_message, event_id, status
           FROM crm_sync.sync_failures WHERE entity_id = $1`,
        [String(id)],
      );
      return rows[0] as { id: number; error_message: string } | undefined;
    });
    expect(failure).toMatchObject({
      stage: 'sync',
      error_kind: 'internal',
      error_code: 'stalled',
      event_id: event.id,
      status: 'open',
    });
    expect(failure.error_message).toContain('job stalled more than allowable limit');
    expect(deliveriesFor(id)).toHaveLength(0);

    expect(await h.engine.replay({ ids: [failure.id] })).toEqual([
      expect.objectContaining({ id: failure.id, status: 'queued' }),
    ]);
    await waitFor('the replayed delivery', () => deliveriesFor(id).length === 1);
    await waitFor('the link', () => linkOf(id).then((l) => l?.sync_hash));
  });
});
