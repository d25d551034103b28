import type { CrmEvent } from '../events/envelope.js';
import { snapshotOf } from './entity-ref.js';

/**
 * Where an event stands in its record's history: the envelope's `version` when the CRM sends one
 * (monotonic per entity), else the snapshot's `updatedAt`, else when the event occurred.
 */
export interface RecordOrder {
  version: number | null;
  updatedAt: number | null;
}

export function orderOf(event: CrmEvent): RecordOrder {
  const snapshot = snapshotOf(event);
  const updatedAt = typeof snapshot.updatedAt === 'string' ? Date.parse(snapshot.updatedAt) : Number.NaN;
  return {
    version: event.version ?? null,
    updatedAt: Number.isNaN(updatedAt) ? Date.parse(event.occurredAt) : updatedAt,
  };
}

/**
 * Negative when `a` is older than `b`, positive when newer, 0 when they cannot be told apart.
 * Versions decide when both have one; timestamps otherwise.
 */
export function compareOrder(a: RecordOrder, b: RecordOrder): number {
  if (a.version !== null && b.version !== null && a.version !== b.version) return a.version - b.version;
  if (a.updatedAt !== null && b.updatedAt !== null) return a.updatedAt - b.updatedAt;
  return 0;
}
