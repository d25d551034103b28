import type { Counter } from 'prom-client';
import type { CrmEventInput } from '../../src/events/envelope.js';

/** A valid contact event; tests change what they are about. */
export function contactEvent(id: string, overrides: Record<string, unknown> = {}): CrmEventInput {
  return {
    id,
    type: 'CRM_CONTACT_UPDATED',
    organizationId: 'org_1',
    occurredAt: '2026-11-22T10:30:00.000Z',
    correlationId: `c-${id}`,
    data: { id: 42, email: 'ada@example.com', updatedAt: '2026-11-22T10:30:00.000Z' },
    ...overrides,
  } as CrmEventInput;
}

/** The current value of one labelled series of a counter (0 when it has none yet). */
export async function counterValue<T extends string>(
  counter: Counter<T>,
  labels: Partial<Record<T, string>>,
): Promise<number> {
  const { values } = await counter.get();
  const series = values.find((v) =>
    Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
  );
  return series?.value ?? 0;
}
