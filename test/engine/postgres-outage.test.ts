import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BurstRig, startBurstRig } from '../helpers/burst-rig.js';
import { adminUrl } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Postgres dropping every connection of crm-sync in the middle of a burst (a failover, a restart,
 * an operator's pg_terminate_backend): statements in flight fail, the pool reconnects, and the
 * engine must finish the burst with nothing lost and nothing dead-lettered for it.
 */
const CONTACTS = 200;
/** Published while `processed_events` is locked, so their claims wait and are cut off. */
const LATE = 20;

let rig: BurstRig;

beforeAll(async () => {
  rig = await startBurstRig('postgres-outage-hooks');
});

afterAll(async () => {
  await rig?.close();
});

/**
 * A Postgres restart under load: crm-sync's statements on `table` are made to wait on a lock (so
 * one is surely in flight), then every connection crm-sync holds is ended, as a restart or a
 * failover ends them, and the lock goes. `duringLock` may publish events meanwhile. Returns how
 * many of the ended connections were mid-statement.
 */
async function restartUnderLoad(
  table: 'sync_links' | 'processed_events',
  duringLock: () => Promise<void> = async () => {},
): Promise<number> {
  const locker = new pg.Client(rig.h.testDb.url);
  const admin = new pg.Client(adminUrl(rig.h.testDb.url));
  await Promise.all([locker.connect(), admin.connect()]);
  try {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE crm_sync.${table} IN ACCESS EXCLUSIVE MODE`);
    await duringLock();
    const waiting = `SELECT pid FROM pg_stat_activity
      WHERE datname = $1 AND application_name = 'crm-sync' AND wait_event_type = 'Lock' AND query ILIKE $2`;
    await waitFor(
      `a crm-sync statement on ${table} waiting on the lock`,
      async () => (await admin.query(waiting, [rig.h.testDb.name, `%${table}%`])).rowCount,
      15_000,
    );
    const { rows } = await admin.query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting, pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND application_name = 'crm-sync'`,
      [rig.h.testDb.name],
    );
    return rows.filter((r) => r.waiting).length;
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    await Promise.all([locker.end(), admin.end()]);
  }
}

describe('a Postgres outage in the middle of a burst', () => {
  it('delivers and links every record once the connections come back, and dead-letters nothing', async () => {
    const { h, receiver, integrationId } = rig;
    const events = rig.creates(CONTACTS, 'outage', 5_000);
    const first = events.slice(0, CONTACTS - LATE);
    const late = events.slice(-LATE);
    const publishAll = (wave: typeof events) => async () => {
      for (const event of wave) await h.publish(event);
    };
    await publishAll(first)();

    // Cut off while syncing (a link statement in flight), then while routing (claims in flight).
    await waitFor('the burst to be under way', () => receiver.deliveries.length >= 30, 30_000);
    expect(await restartUnderLoad('sync_links')).toBeGreaterThan(0);
    await waitFor('deliveries after the first outage', () => receiver.deliveries.length >= 60, 30_000);
    expect(await restartUnderLoad('processed_events', publishAll(late))).toBeGreaterThan(0);

    await waitFor('every contact linked', async () => (await rig.linkedCount()) === CONTACTS, 30_000, 100);

    await rig.expectAllDeliveredNothingDeadLettered(events);
    const { rows: log } = await h.ctx.db.query<{ n: number }>(
      `SELECT count(DISTINCT entity_id)::int AS n FROM crm_sync.sync_log
        WHERE integration_id = $1 AND result = 'success'`,
      [integrationId],
    );
    expect(log[0]!.n).toBe(CONTACTS);
  }, 90_000);
});
