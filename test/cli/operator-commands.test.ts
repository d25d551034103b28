import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactEvent, type EngineHarness, startEngineHarness } from '../helpers/engine-harness.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
  webhookIntegration,
} from '../helpers/webhook-receiver.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
let h: EngineHarness;
let receiver: WebhookReceiver;

/** Runs `crm-sync …` in this process against the harness's stores. */
const cli = (...args: string[]) => runCliCaptured({ ...h.env, CRM_SYNC_LOG_LEVEL: 'silent' }, ...args);

const entityIs = (id: number) => (m: unknown) =>
  JSON.stringify(m).includes(`"entity":{"type":"contact","id":"${id}"}`);

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secret });
  h = await startEngineHarness();
  await h.applyIntegration(
    webhookIntegration(receiver, secret, {
      key: 'ops-hooks',
      name: 'Ops webhooks',
      events: ['CRM_CONTACT_CREATED', 'CRM_CONTACT_UPDATED'],
    }),
  );
  receiver.failWhen(
    (a) => entityIs(72)(a.message),
    { status: 422, body: { error: 'email rejected' } },
    { times: 1 },
  );
  await h.publish(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 71, version: 1 }));
  await h.publish(contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: 72, version: 1 }));
  await waitFor('one delivery and one dead letter', async () => {
    const { rows } = await h.ctx.db.query(`SELECT count(*)::int AS n FROM crm_sync.sync_failures`);
    return receiver.deliveries.length === 1 && rows[0].n === 1;
  });
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

describe('operator commands', () => {
  it('status finds a contact by id, CRM external id or email', async () => {
    for (const who of ['71', 'ctc_71', 'PERSON71@example.com']) {
      const { stdout, exitCode } = await cli('status', '--contact', who, '--json');
      expect(exitCode).toBe(0);
      const { links } = JSON.parse(stdout);
      expect(links).toEqual([
        expect.objectContaining({ entity_id: '71', integration: 'ops-hooks', last_error: null }),
      ]);
    }
    const unknown = await cli('status', '--contact', 'nobody@example.com');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no sync state for contact "nobody@example.com"');
  });

  it('status shows the open dead letter of a failing contact', async () => {
    const { stdout } = await cli('status', '--contact', '72', '--json');
    expect(JSON.parse(stdout).openFailures).toEqual([
      expect.objectContaining({ integration: 'ops-hooks', error_kind: 'permanent' }),
    ]);
  });

  it('logs lists attempts newest first, filtered', async () => {
    const { stdout } = await cli('logs', '--integration', 'ops-hooks', '--json');
    const rows = JSON.parse(stdout) as { entityId: string; result: string; integration: string }[];
    expect(rows.map((r) => [r.entityId, r.result]).sort()).toEqual([
      ['71', 'success'],
      ['72', 'failed'],
    ]);
    const failed = JSON.parse((await cli('logs', '--result', 'failed', '--json')).stdout);
    expect(failed).toHaveLength(1);
    expect(failed[0].error).toContain('422');
  });

  it("failures list and show give the provider's reason", async () => {
    const list = JSON.parse((await cli('failures', 'list', '--integration', 'ops-hooks', '--json')).stdout);
    expect(list).toEqual([expect.objectContaining({ entityId: '72', providerStatus: 422, status: 'open' })]);
    const shown = JSON.parse((await cli('failures', 'show', String(list[0].id), '--json')).stdout);
    expect(JSON.stringify(shown.errorDetails)).toContain('email rejected');
    expect(JSON.stringify(shown)).not.toContain(secret.slice(6, 20));
  });

  it('replay --dry-run changes nothing; replay by integration delivers once and closes the dead letter', async () => {
    const dry = await cli('replay', '--integration', 'ops-hooks', '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toEqual([
      expect.objectContaining({ status: 'would_replay', entity: 'contact:72' }),
    ]);
    expect(receiver.deliveries).toHaveLength(1);

    const real = await cli('replay', '--integration', 'ops-hooks', '--json');
    expect(JSON.parse(real.stdout)).toEqual([expect.objectContaining({ status: 'queued' })]);
    await waitFor(
      'the replayed delivery',
      () => receiver.deliveries.filter((d) => entityIs(72)(d.message)).length === 1,
    );
    await waitFor('the dead letter closed', async () => {
      const { rows } = await h.ctx.db.query(`SELECT status FROM crm_sync.sync_failures`);
      return rows[0].status === 'replayed';
    });
    const again = await cli('replay', '--integration', 'ops-hooks', '--json');
    expect(JSON.parse(again.stdout)).toEqual([]);
  });

  it('refuses a replay without ids or integration, and names a bad id', async () => {
    expect((await cli('replay')).stderr).toContain('give dead letter ids or --integration KEY');
    expect((await cli('replay', 'abc')).stderr).toContain('not a dead letter id: abc');
    expect((await cli('replay', '99999')).stderr).toContain('no dead letter with id 99999');
  });
});
