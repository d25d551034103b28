import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimEvents,
  findProcessedEventIds,
  isEventProcessed,
  markEventProcessed,
  pruneProcessedEvents,
  releaseEventClaim,
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

  it('claims an id for one delivery: that delivery may claim it again, any other is a duplicate', async () => {
    const claim = (eventId: string, delivery: string) => ({
      eventId,
      eventType: 'CRM_CONTACT_CREATED',
      delivery,
    });
    expect(await claimEvents(t.db, [claim('evt_c1', 'job1@1'), claim('evt_c2', 'job2@1')])).toEqual(
      new Set(['evt_c1', 'evt_c2']),
    );
    // The same job run again (a retry, a stalled job): still its claim. A re-publication: not.
    expect(await claimEvents(t.db, [claim('evt_c1', 'job1@1'), claim('evt_c2', 'job2@2')])).toEqual(
      new Set(['evt_c1']),
    );
    // Marked before claims existed: done, whoever asks.
    await markEventProcessed(t.db, 'evt_c3', 'CRM_CONTACT_CREATED');
    expect(await claimEvents(t.db, [claim('evt_c3', 'job3@1')])).toEqual(new Set());
    // Twice in one statement: the first claim is the one made.
    expect(await claimEvents(t.db, [claim('evt_c4', 'a@1'), claim('evt_c4', 'b@1')])).toEqual(
      new Set(['evt_c4']),
    );
    expect(await claimEvents(t.db, [claim('evt_c4', 'a@1')])).toEqual(new Set(['evt_c4']));
    expect(await claimEvents(t.db, [])).toEqual(new Set());
  });

  it('releases a claim only for the delivery that holds it', async () => {
    const claim = { eventId: 'evt_r1', eventType: 'CRM_CONTACT_CREATED', delivery: 'job@1' };
    await claimEvents(t.db, [claim]);
    await releaseEventClaim(t.db, 'evt_r1', 'job@2');
    expect(await isEventProcessed(t.db, 'evt_r1')).toBe(true);
    await releaseEventClaim(t.db, 'evt_r1', 'job@1');
    expect(await isEventProcessed(t.db, 'evt_r1')).toBe(false);
    expect(await claimEvents(t.db, [{ ...claim, delivery: 'job@2' }])).toEqual(new Set(['evt_r1']));
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
