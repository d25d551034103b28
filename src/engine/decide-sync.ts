import type { Operation } from '../connectors/types.js';
import { classOf } from './entity-ref.js';
import { compareOrder, type RecordOrder } from './record-order.js';

/** What the link remembers of the last successful sync of a record. */
export interface LinkSnapshot {
  externalId: string | null;
  syncHash: string | null;
  lastVersion: number | null;
  lastUpdatedAt: Date | null;
  lastEventId: string | null;
}

export type SyncDecision =
  | { action: 'push' }
  | { action: 'skip'; reason: 'stale' | 'unchanged' | 'duplicate_event' | 'already_linked' };

/**
 * The engine's per-record decision, before any API call:
 * - the event that was synced last, again → skip (a replayed or redelivered event);
 * - a state change older than what was synced → skip as stale;
 * - the same mapped payload as last time (sync hash) → skip, no API call;
 * - an activity that already has a provider id → skip (creating it again would duplicate it);
 * - anything else → push.
 */
export function decideSync(input: {
  operation: Operation;
  eventId: string;
  order: RecordOrder;
  hash: string;
  link: LinkSnapshot | null;
  /** Replays re-run a failed event even when the link saw it (it failed then). */
  force?: boolean;
}): SyncDecision {
  const { operation, link } = input;
  if (!link || input.force) return { action: 'push' };
  if (operation === 'activity' && link.externalId) return { action: 'skip', reason: 'already_linked' };
  if (classOf(operation) === 'delta') return { action: 'push' };
  if (link.lastEventId === input.eventId && link.syncHash !== null)
    return { action: 'skip', reason: 'duplicate_event' };
  const synced: RecordOrder = { version: link.lastVersion, updatedAt: link.lastUpdatedAt?.getTime() ?? null };
  if (link.syncHash !== null && compareOrder(input.order, synced) < 0)
    return { action: 'skip', reason: 'stale' };
  if (link.syncHash === input.hash) return { action: 'skip', reason: 'unchanged' };
  return { action: 'push' };
}
