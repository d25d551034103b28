import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/api/admin-routes.js';
import { WRITE_BACK_QUEUE } from '../../src/engine/write-back-queue.js';
import { buildServer } from '../../src/server/build-server.js';
import { getIntegrationById, setIntegrationStatus } from '../../src/store/integrations-repo.js';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookIntegration,
} from '../helpers/webhook-receiver.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const CRM_API_KEY = `crm-key-${randomBytes(8).toString('hex')}`;

/** A loopback stand-in for the CRM API: records the write-backs it receives, answers 202. */
interface FakeCrm {
  url: string;
  writes: { path: string; authorization: string | undefined; body: Record<string, unknown> }[];
  close(): Promise<void>;
}
async function startFakeCrm(): Promise<FakeCrm> {
  const writes: FakeCrm['writes'] = [];
  const read = async (req: IncomingMessage) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    return JSON.parse(body) as Record<string, unknown>;
  };
  const server: Server = createServer((req, res) => {
    read(req).then((body) => {
      writes.push({ path: `${req.method} ${req.url}`, authorization: req.headers.authorization, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    writes,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

let h: EngineHarness;
let receiver: WebhookReceiver;
let crm: FakeCrm;
let integrationId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  crm = await startFakeCrm();
  h = await startEngineHarness({}, { CRM_API_URL: crm.url, CRM_API_KEY });
  integrationId = (
    await h.applyIntegration(
      webhookIntegration(receiver, secret, {
        key: 'hooks-writeback',
        name: 'Webhooks with ids',
        events: ['CRM_CONTACT_CREATED', 'CRM_CONTACT_UPDATED'],
        writeBack: { property: 'receiver_id' },
        retry: { attempts: 3, backoffMs: 40 },
      }),
    )
  ).integration.id;
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
  await crm?.close();
});

const deliveredFor = (id: number) =>
  receiver.deliveries.filter((d) =>
    JSON.stringify(d.message).includes(`"entity":{"type":"contact","id":"${id}"}`),
  );

describe('engine behaviour around the push', () => {
  it("writes the provider id back to the CRM, marked as this integration's own write", async () => {
    receiver.failWhen((a) => JSON.stringify(a.message).includes('"entity":{"type":"contact","id":"501"}'), {
      status: 200,
      body: { externalId: 'rcv-501' },
    });
    await h.publish(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 501, version: 1 }));
    const write = await waitFor('the write-back', () =>
      crm.writes.find((w) => w.path === 'PATCH /crm/contacts/501'),
    );
    expect(write.authorization).toBe(`Bearer ${CRM_API_KEY}`);
    expect(write.body).toEqual({
      properties: { receiver_id: 'rcv-501' },
      source: { module: 'INTEGRATION', integrationId },
    });
  });

  it('dead-letters a write-back whose workers kept dying on it, and replays it with one command', async () => {
    const writes = new Queue(WRITE_BACK_QUEUE, { connection: h.ctx.redis(), prefix: h.prefix });
    await writes.pause();
    try {
      receiver.failWhen((a) => JSON.stringify(a.message).includes('"entity":{"type":"contact","id":"503"}'), {
        status: 200,
        body: { externalId: 'rcv-503' },
      });
      await h.publish(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 503, version: 1 }));
      const job = await waitFor('the write-back job', async () =>
        (await writes.getJobs(['wait'])).find((j) => (j.data as { contactId: string }).contactId === '503'),
      );
      // What BullMQ's stalled checker leaves on a job whose worker died with it a second time.
      await h.ctx
        .redis()
        .hset(`${h.prefix}:${WRITE_BACK_QUEUE}:${job.id}`, 'defa', 'job stalled more than allowable limit');
    } finally {
      await writes.resume();
      await writes.close();
    }
    const failure = await waitFor('the dead letter', async () => {
      const { rows } = await h.ctx.db.query(
        `SELECT id, error_code, error_message, status FROM crm_sync.sync_failures WHERE failure_key = $1`,
        [`writeback:${integrationId}:503`],
      );
      return rows[0] as { id: number; error_code: string; error_message: string; status: string } | undefined;
    });
    expect(failure).toMatchObject({ error_code: 'stalled', status: 'open' });
    expect(failure.error_message).toContain('receiver_id=rcv-503');
    expect(crm.writes.find((w) => w.path === 'PATCH /crm/contacts/503')).toBeUndefined();

    // One command re-runs it, from the link's provider id and the integration's property.
    expect(await h.engine.replay({ ids: [failure.id] })).toEqual([
      expect.objectContaining({ id: failure.id, status: 'queued' }),
    ]);
    const write = await waitFor('the replayed write-back', () =>
      crm.writes.find((w) => w.path === 'PATCH /crm/contacts/503'),
    );
    expect(write.body).toEqual({
      properties: { receiver_id: 'rcv-503' },
      source: { module: 'INTEGRATION', integrationId },
    });
    await waitFor('the dead letter marked replayed', async () => {
      const { rows } = await h.ctx.db.query(`SELECT status FROM crm_sync.sync_failures WHERE id = $1`, [
        failure.id,
      ]);
      return rows[0]?.status === 'replayed';
    });
  });

  it('does not echo the CRM event that the write-back caused', async () => {
    const echo = contactEvent({ contactId: 501, version: 2, data: { givenName: 'Changed by write-back' } });
    await h.publish({ ...echo, source: { module: 'INTEGRATION', integrationId } });
    const marker = contactEvent({ contactId: 502, version: 1 });
    await h.publish(marker);
    // Events are consumed in order of arrival by one consumer: once the later one is delivered,
    // the echo has been routed (and must have gone nowhere).
    await waitFor('the later event', () => deliveredFor(502).length === 1);
    expect(deliveredFor(501)).toHaveLength(1);
  });

  it("answers sync-status in the CRM's shape, by id or CRM external id", async () => {
    const app = buildServer({ ctx: h.ctx, queue: h.engine.eventsQueue, routes: adminRoutes(h.engine) });
    try {
      await waitFor('the link', async () => {
        const r = await app.inject({
          method: 'GET',
          url: '/v1/contacts/501/sync-status',
          remoteAddress: '127.0.0.1',
        });
        return r.statusCode === 200 && r.json().data.integrations[0]?.externalId === 'rcv-501';
      });
      for (const id of ['501', 'ctc_501']) {
        const answer = await app.inject({
          method: 'GET',
          url: `/v1/contacts/${id}/sync-status`,
          remoteAddress: '127.0.0.1',
        });
        expect(answer.json()).toEqual({
          data: {
            contactId: '501',
            externalId: 'ctc_501',
            integrations: [
              {
                integrationId,
                integrationName: 'Webhooks with ids',
                provider: 'WEBHOOK',
                externalId: 'rcv-501',
                lastSyncedAt: expect.any(String),
                syncHash: expect.stringMatching(/^[0-9a-f]{64}$/),
                lastError: null,
              },
            ],
          },
        });
      }
      const missing = await app.inject({
        method: 'GET',
        url: '/v1/contacts/999999/sync-status',
        remoteAddress: '127.0.0.1',
      });
      expect(missing.statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('pauses the integration on an auth failure instead of failing every record, and resumes', async () => {
    receiver.respondWith(401, { times: 1 });
    await h.publish(contactEvent({ contactId: 601, version: 1 }));
    await h.publish(contactEvent({ contactId: 602, version: 1 }));
    const paused = await waitFor('the pause', async () => {
      const i = await getIntegrationById(h.ctx.db, integrationId);
      return i?.status === 'paused' && i;
    });
    expect(paused.statusReason).toMatch(/credentials rejected/);
    const { rows } = await h.ctx.db.query(
      `SELECT count(*)::int AS n FROM crm_sync.sync_failures
        WHERE integration_id = $1 AND entity_id IN ('601', '602')`,
      [integrationId],
    );
    expect(rows[0].n).toBe(0);

    await setIntegrationStatus(h.ctx.db, integrationId, { status: 'active', reason: null });
    await waitFor(
      'both records after the resume',
      () => deliveredFor(601).length === 1 && deliveredFor(602).length === 1,
    );
  });
});
