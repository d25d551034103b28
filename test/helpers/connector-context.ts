import type { ConnectorContext } from '../../src/connectors/types.js';
import { silentLogger } from '../../src/logging/logger.js';

/**
 * A connector context for connector-level tests: requests run at once (no shared limiter) and
 * are counted, so a test can assert how many provider calls a push made.
 */
export function directContext<S, C>(
  settings: S,
  credentials: C,
  integration: Partial<ConnectorContext<S, C>['integration']> = {},
): ConnectorContext<S, C> & { calls: number } {
  const ctx = {
    calls: 0,
    integration: {
      id: '00000000-0000-4000-8000-000000000001',
      key: 'test',
      organizationId: 'org_1',
      name: 'Test',
      ...integration,
    },
    settings,
    credentials,
    logger: silentLogger,
    async request<T>(call: () => Promise<T>): Promise<T> {
      ctx.calls += 1;
      return call();
    },
  };
  return ctx;
}
