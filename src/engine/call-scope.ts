import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-push bookkeeping that connector code does not have to pass along: how many provider
 * requests a push made, and whether it is live or bulk work. The engine runs each push inside
 * a scope; `ctx.request` reads it.
 */
export interface CallScope {
  apiCalls: number;
  priority: 'live' | 'bulk';
}

const storage = new AsyncLocalStorage<CallScope>();

export function runInCallScope<T>(priority: CallScope['priority'], fn: (scope: CallScope) => Promise<T>) {
  const scope: CallScope = { apiCalls: 0, priority };
  return storage.run(scope, () => fn(scope));
}

export function currentCallScope(): CallScope | undefined {
  return storage.getStore();
}
