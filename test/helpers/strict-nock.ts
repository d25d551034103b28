import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/**
 * Registers the hooks of a file whose provider HTTP is nock: nothing reaches the network, and
 * after each test every interceptor it declared must have been used (an expected request that
 * was never made fails the test, not the next one).
 */
export function useStrictNock(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
  afterAll(() => nock.enableNetConnect());
}
