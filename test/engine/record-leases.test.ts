import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailchimpSandbox } from '../../src/connectors/mailchimp/sandbox/index.js';
import { NewestChangeStore } from '../../src/engine/newest-change-store.js';
import { RecordLeases } from '../../src/engine/record-leases.js';
import { RecordsInPush } from '../../src/engine/records-in-push.js';
import { type SyncItem, syncNewest } from '../../src/engine/sync-batch.js';
import { CrmEvent, type CrmEventInput } from '../../src/events/envelope.js';
import { silentLogger } from '../../src/logging/logger.js';
import { contactEvent, type EngineHarness } from '../helpers/engine-harness.js';
import { type MailchimpWorker, startMailchimpWorker } from '../helpers/mailchimp-worker.js';
import { createTestRedis, deletePrefix, testPrefix } from '../helpers/test-redis.js';
import { waitFor } from '../helpers/wait-for.js';

/** A contact's ref. */
const ref = (id: string | number) => ({ entityType: 'contact' as const, entityId: String(id) });

describe('RecordLeases (per-record leases in Redis, shared by worker processes)', () => {
  let redis: Redis;
  let other: Redis;
  const prefix = testPrefix('leases');

  beforeAll(() => {
    redis = createTestRedis();
    other = createTestRedis();
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    other.disconnect();
  });

  it('gives a record to one push at a time, says how long the other waits, and frees it on release', async () => {
    const here = new RecordLeases(redis, prefix, silentLogger);
    const there = new RecordLeases(other, prefix, silentLogger);

    const first = await here.take('int-1', [ref('1'), ref('2')]);
    expect(first.busy).toEqual([]);
    const second = await there.take('int-1', [ref('3'), ref('2'), ref('1')]);
    expect(second.busy.map((b) => b.position).sort()).toEqual([1, 2]);
    for (const b of second.busy) expect(b.retryInMs).toBeGreaterThan(25_000);
    // Another integration's record of the same id is another record.
    expect((await there.take('int-2', [ref('1')])).busy).toEqual([]);

    await first.release();
    const third = await there.take('int-1', [ref('1'), ref('2')]);
    expect(third.busy).toEqual([]);
    // A release frees only what the releasing push holds: contact:3 is still the second's.
    expect((await here.take('int-1', [ref('3')])).busy).toHaveLength(1);
    await Promise.all([second.release(), third.release()]);
  });

  it('renews a lease while its push runs, and frees the records of a process that died', async () => {
    const leases = new RecordLeases(redis, prefix, silentLogger, { leaseMs: 300 });
    const key = leases.key('int-1', ref('renewed'));
    const grant = await leases.take('int-1', [ref('renewed')]);
    const initial = await redis.pttl(key);
    let lowest = initial;
    // Renewed every 100 ms: the time left goes back up instead of running out.
    await waitFor('the lease to be renewed', async () => {
      const left = await redis.pttl(key);
      lowest = Math.min(lowest, left);
      return left > lowest + 50;
    });
    await grant.release();
    expect(await redis.exists(key)).toBe(0);

    // A process that died holding a record: its lease is a key nobody renews.
    const dead = leases.key('int-1', ref('orphan'));
    await redis.set(dead, 'a-process-that-died', 'PX', 200);
    const blocked = await leases.take('int-1', [ref('orphan')]);
    expect(blocked.busy[0]?.retryInMs).toBeLessThanOrEqual(200);
    const freed = await waitFor('the dead lease to run out', async () => {
      const grant = await leases.take('int-1', [ref('orphan')]);
      return grant.busy.length === 0 ? grant : null;
    });
    await freed.release();
  });

  it('counts every record as taken when Redis cannot answer, and says so once', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    const leases = new RecordLeases(down, prefix, logger);
    const one = await leases.take('int-1', [ref('1')]);
    const two = await leases.take('int-1', [ref('1')]);
    expect([one.busy, two.busy]).toEqual([[], []]);
    await one.release();
    expect(lines.filter((l) => l.includes('record leases unavailable'))).toHaveLength(1);
    down.disconnect();
  });
});

describe('two worker processes pushing one Mailchimp member at once', () => {
  const LIST = 'leasedaudience';
  let h: EngineHarness;
  let sandbox: MailchimpSandbox;
  let integrationId: string;
  let nextContact = 1;

  let worker: MailchimpWorker | undefined;
  beforeAll(async () => {
    worker = await startMailchimpWorker({ key: 'mailchimp-leases', listId: LIST });
    ({ h, sandbox, integrationId } = worker);
  }, 30_000);

  afterAll(async () => {
    await worker?.close();
  });

  const tagsOf = (email: string) =>
    (sandbox.member(LIST, email)?.tags ?? []).map((t) => t.name).sort((a, b) => a.localeCompare(b));

  async function ownedTags(contactId: number) {
    const { rows } = await h.ctx.db.query<{ state: { tags?: string[] } }>(
      `SELECT state FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_type = 'contact' AND entity_id = $2`,
      [integrationId, String(contactId)],
    );
    return [...(rows[0]?.state.tags ?? [])].sort((a, b) => a.localeCompare(b));
  }

  async function createMember() {
    const id = nextContact++;
    const event = contactEvent({ type: 'CRM_CONTACT_CREATED', contactId: id, version: 1, data: {} });
    await h.publish(event);
    await waitFor(`contact ${id}'s member to be linked`, async () => {
      const { rows } = await h.ctx.db.query(
        `SELECT 1 FROM crm_sync.sync_links WHERE integration_id = $1 AND entity_id = $2 AND external_id IS NOT NULL`,
        [integrationId, String(id)],
      );
      return rows.length > 0;
    });
    return { id, email: `person${id}@example.com` };
  }

  const tagItem = (contactId: number, tag: string): SyncItem => {
    const base = contactEvent({ contactId, data: { tags: [tag] } });
    const event = { ...base, type: 'CRM_CONTACT_TAG_ADDED', data: { ...base.data, tag } } as CrmEventInput;
    return {
      event: CrmEvent.parse(event),
      ref: { entityType: 'contact', entityId: String(contactId) },
      operation: 'tag_add',
      attemptsMade: 0,
    };
  };

  /** What one worker process brings to a push: its own serialisation, connection and leases. */
  function workerProcess(leases: RecordLeases | undefined, latest: NewestChangeStore) {
    return {
      db: h.ctx.db,
      logger: silentLogger,
      pauseIntegration: async () => {},
      latest,
      inPush: new RecordsInPush(),
      ...(leases ? { leases } : {}),
    };
  }

  it('records both tags the CRM owns: the second process waits for the first one’s push of the member', async () => {
    const c = await createMember();
    const rt = (await h.engine.registry.get(integrationId))!;
    const other = await h.startAnotherEngine({ role: 'events' });
    const latest = new NewestChangeStore(h.ctx.redis(), h.prefix);
    const a = workerProcess(new RecordLeases(h.ctx.redis(), h.prefix, silentLogger), latest);
    const b = workerProcess(new RecordLeases(other.ctx.redis(), h.prefix, silentLogger), latest);

    const [first, second] = await Promise.all([
      syncNewest(rt, [tagItem(c.id, 'alpha')], a),
      syncNewest(rt, [tagItem(c.id, 'beta')], b),
    ]);

    expect([first[0]?.kind, second[0]?.kind]).toEqual(['synced', 'synced']);
    expect(tagsOf(c.email)).toEqual(['alpha', 'beta']);
    expect(await ownedTags(c.id)).toEqual(['alpha', 'beta']);
    await latest.close();
  });

  it('pushes the rest of a batch at once and a record busy elsewhere after its lease is given back', async () => {
    const [busy, free] = [await createMember(), await createMember()];
    const rt = (await h.engine.registry.get(integrationId))!;
    const latest = new NewestChangeStore(h.ctx.redis(), h.prefix);
    const leases = new RecordLeases(h.ctx.redis(), h.prefix, silentLogger);
    // Another process holds the first member until it gives it back.
    const elsewhere = await new RecordLeases(h.ctx.redis(), h.prefix, silentLogger).take(integrationId, [
      ref(busy.id),
    ]);

    const pushing = syncNewest(
      rt,
      [tagItem(busy.id, 'gamma'), tagItem(free.id, 'delta')],
      workerProcess(leases, latest),
    );
    await waitFor('the free member to be tagged', () => tagsOf(free.email).includes('delta'));
    expect(tagsOf(busy.email)).toEqual([]);
    await elsewhere.release();

    expect((await pushing).map((o) => o.kind)).toEqual(['synced', 'synced']);
    expect(tagsOf(busy.email)).toEqual(['gamma']);
    await latest.close();
  });

  it('retries a record another process keeps past the wait, and sends nothing for it', async () => {
    const c = await createMember();
    const rt = (await h.engine.registry.get(integrationId))!;
    const latest = new NewestChangeStore(h.ctx.redis(), h.prefix);
    const leases = new RecordLeases(h.ctx.redis(), h.prefix, silentLogger, { maxWaitMs: 200 });
    const elsewhere = await new RecordLeases(h.ctx.redis(), h.prefix, silentLogger).take(integrationId, [
      ref(c.id),
    ]);
    const before = sandbox.traffic.log.length;

    const [outcome] = await syncNewest(rt, [tagItem(c.id, 'epsilon')], workerProcess(leases, latest));

    expect(outcome).toMatchObject({ kind: 'retry', error: { code: 'RECORD_BUSY', kind: 'retryable' } });
    expect(sandbox.traffic.log.slice(before).filter((e) => e.path.includes('/members'))).toEqual([]);
    await elsewhere.release();
    await latest.close();
  });
});
