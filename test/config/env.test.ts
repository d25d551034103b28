import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';

describe('loadEnv: tuning variables', () => {
  it('leaves them unset when not given, so the engine applies its own defaults', () => {
    const env = loadEnv({});
    expect(env.CRM_SYNC_EVENT_CONCURRENCY).toBeUndefined();
    expect(env.CRM_SYNC_COALESCE_MS).toBeUndefined();
  });

  it('reads them as integers', () => {
    const env = loadEnv({ CRM_SYNC_EVENT_CONCURRENCY: '50', CRM_SYNC_COALESCE_MS: '0' });
    expect(env.CRM_SYNC_EVENT_CONCURRENCY).toBe(50);
    expect(env.CRM_SYNC_COALESCE_MS).toBe(0);
  });

  it('names each variable that is out of range or not a number', () => {
    expect(() => loadEnv({ CRM_SYNC_EVENT_CONCURRENCY: '0', CRM_SYNC_COALESCE_MS: 'soon' })).toThrow(
      /CRM_SYNC_EVENT_CONCURRENCY: .*\n {2}CRM_SYNC_COALESCE_MS: /,
    );
  });
});
