import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countFailures,
  type FailureInput,
  getFailure,
  listFailures,
  markDiscarded,
  markReplayed,
  markReplaying,
  recordFailure,
} from '../../src/store/failures-repo.js';
import { createTestDb, insertBareIntegration, type TestDb } from '../helpers/test-db.js';

let t: TestDb;
let integrationId: string;

beforeAll(async () => {
  t = await createTestDb();
  integrationId = await insertBareIntegration(t.db, 'hubspot-test', 'HUBSPOT');
});

afterAll(() => t?.drop());

const syncFailure = (key: string, overrides: Partial<FailureInput> = {}): FailureInput => ({
  failureKey: key,
  stage: 'sync',
  integrationId,
  entityType: 'contact',
  entityId: '42',
  eventId: 'evt_1',
  eventType: 'CRM_CONTACT_UPDATED',
  event: { id: 'evt_1' },
  errorKind: 'permanent',
  errorCode: 'VALIDATION_ERROR',
  errorMessage: 'Property "mrr" does not exist',
  providerStatus: 400,
  ...overrides,
});

describe('the dead-letter store', () => {
  it('keeps one open row per failure key, with the latest error and a growing attempt count', async () => {
    const first = await recordFailure(t.db, syncFailure('sync:a'));
    const second = await recordFailure(
      t.db,
      syncFailure('sync:a', { eventId: 'evt_2', errorMessage: 'still wrong', providerStatus: 422 }),
    );
    expect(second).toBe(first);
    expect(await getFailure(t.db, first)).toMatchObject({
      eventId: 'evt_2',
      errorMessage: 'still wrong',
      providerStatus: 422,
      attempts: 2,
      status: 'open',
    });
    await recordFailure(t.db, syncFailure('sync:a', { attempts: 7 }));
    expect((await getFailure(t.db, first))?.attempts).toBe(7);
  });

  it('opens a new row for a key whose previous failure was replayed', async () => {
    const first = await recordFailure(t.db, syncFailure('sync:b'));
    expect(await markReplaying(t.db, first)).toMatchObject({ status: 'replaying' });
    expect(await markReplaying(t.db, first)).toBeNull();
    expect(await markReplayed(t.db, first)).toMatchObject({ status: 'replayed', replayCount: 1 });
    const next = await recordFailure(t.db, syncFailure('sync:b'));
    expect(next).not.toBe(first);
    expect(await countFailures(t.db, { status: 'open' })).toBeGreaterThanOrEqual(1);
  });

  it('reopens a failure that fails again while it is being replayed', async () => {
    const id = await recordFailure(t.db, syncFailure('sync:c'));
    await markReplaying(t.db, id);
    expect(await recordFailure(t.db, syncFailure('sync:c'))).toBe(id);
    expect(await getFailure(t.db, id)).toMatchObject({ status: 'open', attempts: 2 });
  });

  it('discards a failure, after which it can no longer be replayed', async () => {
    const id = await recordFailure(t.db, syncFailure('sync:d'));
    expect(await markDiscarded(t.db, id)).toMatchObject({ status: 'discarded' });
    expect(await markReplaying(t.db, id)).toBeNull();
  });

  it('stores no secret from the event, the details or the message', async () => {
    const id = await recordFailure(
      t.db,
      syncFailure('sync:secrets', {
        event: { id: 'evt_s', credentials: { accessToken: 'pat-na1-123' } },
        errorDetails: { request: { headers: { authorization: 'Bearer pat-na1-123' } } },
        errorMessage: 'HubSpot said 401 to Bearer pat-na1-123',
      }),
    );
    const { rows } = await t.db.query(
      `SELECT row_to_json(f)::text AS json FROM crm_sync.sync_failures f WHERE id = $1`,
      [id],
    );
    expect(rows[0]!.json).not.toContain('pat-na1-123');
    expect(rows[0]!.json).toContain('[redacted]');
  });

  it('stores a raw payload of any JSON shape, NUL characters included', async () => {
    const raw = ['not', 'an', { event: 'with \u0000 inside' }];
    const id = await recordFailure(t.db, {
      failureKey: 'ingest:sha256:x',
      stage: 'ingest',
      event: raw,
      errorKind: 'validation',
      errorMessage: 'bad \u0000 input',
    });
    const failure = await getFailure(t.db, id);
    expect(failure?.event).toEqual(['not', 'an', { event: 'with \uFFFD inside' }]);
    expect(failure?.errorMessage).toBe('bad \uFFFD input');
  });

  it('lists failures newest first, filtered by integration, status, code and time', async () => {
    const since = new Date();
    const older = await recordFailure(t.db, syncFailure('sync:list-1', { errorCode: 'CONFLICT' }));
    const newer = await recordFailure(t.db, syncFailure('sync:list-2', { errorCode: 'CONFLICT' }));
    await recordFailure(t.db, {
      ...syncFailure('ingest:x'),
      stage: 'ingest',
      integrationId: null,
      errorCode: 'CONFLICT',
    });

    const listed = await listFailures(t.db, { integrationId, code: 'CONFLICT', status: 'open', since });
    expect(listed.map((f) => f.id)).toEqual([newer, older]);
    expect(
      (await listFailures(t.db, { integrationId, code: 'CONFLICT', limit: 1, offset: 1 })).map((f) => f.id),
    ).toEqual([older]);
    expect(await countFailures(t.db, { code: 'CONFLICT' })).toBe(3);
    expect(await listFailures(t.db, { since: new Date(Date.now() + 60_000) })).toEqual([]);
  });
});
