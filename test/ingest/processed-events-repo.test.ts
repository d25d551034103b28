import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findProcessedEventIds,
  isEventProcessed,
  markEventProcessed,
  pruneProcessedEvents,
} from '../../src/store/processed-events-repo.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
});

afterAll(() => t?.drop());

describe('processed events', () => {
  it('remembers an id once, however often it is marked', async () => {
    await markEventProcessed(t.db, 'evt_a', 'CRM_CONTACT_CREATED');
    await markEventProcessed(t.db, 'evt_a', 'CRM_CONTACT_CREATED');
    expect(await isEventProcessed(t.db, 'evt_a')).toBe(true);
    expect(await isEventProcessed(t.db, 'evt_b')).toBe(false);
    expect(await findProcessedEventIds(t.db, ['evt_a', 'evt_b'])).toEqual(new Set(['evt_a']));
  });

  it('forgets ids processed longer ago than the given number of days', async () => {
    await markEventProcessed(t.db, 'evt_old', 'CRM_CONTACT_UPDATED');
    await markEventProcessed(t.db, 'evt_recent', 'CRM_CONTACT_UPDATED');
    await t.db.query(
      `UPDATE crm_sync.processed_events SET processed_at = now() - interval '8 days' WHERE event_id = 'evt_old'`,
    );
    await t.db.query(
      `UPDATE crm_sync.processed_events SET processed_at = now() - interval '6 days' WHERE event_id = 'evt_recent'`,
    );
    expect(await pruneProcessedEvents(t.db, 7)).toBe(1);
    expect(await findProcessedEventIds(t.db, ['evt_old', 'evt_recent', 'evt_a'])).toEqual(
      new Set(['evt_recent', 'evt_a']),
    );
  });

  it('refuses a negative or missing age instead of deleting everything', async () => {
    await expect(pruneProcessedEvents(t.db, -1)).rejects.toThrow(
      'olderThanDays must be a number >= 0, got -1',
    );
    await expect(pruneProcessedEvents(t.db, Number.NaN)).rejects.toThrow('olderThanDays');
  });
});
