import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ConfigError,
  PermanentError,
  RateLimitedError,
  RetryableError,
} from '../../src/connectors/errors.js';
import { decideSync, type LinkSnapshot } from '../../src/engine/decide-sync.js';
import { resolveOperation } from '../../src/engine/entity-ref.js';
import { compareOrder } from '../../src/engine/record-order.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, decideFailure } from '../../src/engine/retry-policy.js';
import { canonicalJson, syncHash } from '../../src/engine/sync-hash.js';

const link = (over: Partial<LinkSnapshot> = {}): LinkSnapshot => ({
  externalId: 'ext-1',
  syncHash: 'h1',
  lastVersion: 5,
  lastUpdatedAt: new Date('2026-11-01T00:00:00Z'),
  lastEventId: 'evt_5',
  ...over,
});
const order = (version: number | null, at = '2026-11-02T00:00:00Z') => ({
  version,
  updatedAt: Date.parse(at),
});

describe('sync hash', () => {
  it('ignores key order at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(syncHash('upsert', { a: 1, b: 2 })).toBe(syncHash('upsert', { b: 2, a: 1 }));
  });

  it('differs when a value, a key or the operation differs', () => {
    const base = syncHash('upsert', { a: 1 });
    expect(syncHash('upsert', { a: 2 })).not.toBe(base);
    expect(syncHash('upsert', { b: 1 })).not.toBe(base);
    expect(syncHash('archive', { a: 1 })).not.toBe(base);
  });

  it('drops undefined members as JSON does', () => {
    expect(syncHash('upsert', { a: 1, b: undefined })).toBe(syncHash('upsert', { a: 1 }));
  });
});

describe('record order', () => {
  it.each([
    [order(5), order(6), -1],
    [order(7), order(6), 1],
    [order(null, '2026-11-01T00:00:00Z'), order(null, '2026-11-02T00:00:00Z'), -1],
    [order(6, '2026-11-03T00:00:00Z'), order(6, '2026-11-02T00:00:00Z'), 1],
    [order(3, '2026-11-03T00:00:00Z'), order(null, '2026-11-02T00:00:00Z'), 1],
  ])('orders %o against %o', (a, b, sign) => {
    expect(Math.sign(compareOrder(a, b))).toBe(sign);
  });
});

describe('decideSync', () => {
  const input = { operation: 'upsert' as const, eventId: 'evt_6', order: order(6), hash: 'h2' };

  it('pushes a record that has no link yet', () => {
    expect(decideSync({ ...input, link: null })).toEqual({ action: 'push' });
  });
  it('skips with no API call when the mapped payload is unchanged', () => {
    expect(decideSync({ ...input, hash: 'h1', link: link() })).toEqual({
      action: 'skip',
      reason: 'unchanged',
    });
  });
  it('skips an event older than the last synced one', () => {
    expect(decideSync({ ...input, order: order(4), link: link() })).toEqual({
      action: 'skip',
      reason: 'stale',
    });
  });
  it('skips the event that was synced last when it comes again', () => {
    expect(decideSync({ ...input, eventId: 'evt_5', link: link() })).toEqual({
      action: 'skip',
      reason: 'duplicate_event',
    });
  });
  it('pushes a newer, changed record', () => {
    expect(decideSync({ ...input, link: link() })).toEqual({ action: 'push' });
  });
  it('pushes a record whose last sync failed (no hash) even when older', () => {
    expect(decideSync({ ...input, order: order(4), link: link({ syncHash: null }) })).toEqual({
      action: 'push',
    });
  });
  it('never creates an activity twice', () => {
    expect(decideSync({ ...input, operation: 'activity', link: link() })).toEqual({
      action: 'skip',
      reason: 'already_linked',
    });
  });
  it('always applies deltas such as a tag', () => {
    expect(decideSync({ ...input, operation: 'tag_add', order: order(1), hash: 'h1', link: link() })).toEqual(
      {
        action: 'push',
      },
    );
  });
});

describe('resolveOperation', () => {
  it('uses the native operation when the connector has it', () => {
    expect(resolveOperation('CRM_CONTACT_TAG_ADDED', 'contact', ['upsert', 'tag_add'])).toBe('tag_add');
  });
  it('falls back to an upsert of the contact for a delta the connector lacks', () => {
    expect(resolveOperation('CRM_CONTACT_TAG_ADDED', 'contact', ['upsert'])).toBe('upsert');
  });
  it('gives up when the connector does not handle the entity', () => {
    expect(resolveOperation('CRM_ACTIVITY_CREATED', 'activity', undefined)).toBeNull();
    expect(resolveOperation('CRM_CONTACT_ARCHIVED', 'contact', ['upsert'])).toBeNull();
  });
});

describe('decideFailure', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, attempts: 3 };
  it.each([
    [new PermanentError('bad email', { status: 400 }), 1, 'dead_letter'],
    [new RetryableError('502'), 1, 'retry'],
    [new RetryableError('502'), 3, 'dead_letter'],
    [new RateLimitedError('429', { retryAfterMs: 2000 }), 3, 'retry'],
    [new RateLimitedError('429', { retryAfterMs: 2000 }), 6, 'dead_letter'],
    [new AuthError('401'), 1, 'pause_integration'],
    [new ConfigError('list gone'), 1, 'pause_integration'],
    [new RateLimitedError('daily', { retryAfterMs: 60_000, scope: 'daily' }), 1, 'pause_integration'],
  ])('%s after %i attempts → %s', (error, attempts, action) => {
    expect(decideFailure(error, attempts, policy).action).toBe(action);
  });

  it('waits what a 429 asked for', () => {
    expect(decideFailure(new RateLimitedError('429', { retryAfterMs: 7000 }), 1, policy)).toEqual({
      action: 'retry',
      delayMs: 7000,
    });
  });

  it('backs off exponentially with jitter inside [base/2, cap]', () => {
    const p = { attempts: 10, backoffMs: 1000, maxDelayMs: 30_000 };
    expect(backoffDelay(p, 1, () => 0)).toBe(500);
    expect(backoffDelay(p, 1, () => 1)).toBe(1000);
    expect(backoffDelay(p, 4, () => 1)).toBe(8000);
    expect(backoffDelay(p, 20, () => 1)).toBe(30_000);
  });
});
