import { z } from 'zod';
import { defineConnector, OPERATIONS } from '../types.js';

/**
 * Accepts every record and calls nothing: for benchmarks (the engine's own cost, with no
 * provider in the way) and for dry runs of routing, filters and mappings. Each record gets the
 * stable id `noop-<entity>` so links behave as with a real provider.
 */
export const noopConnector = defineConnector({
  provider: 'NOOP',
  displayName: 'No-op (benchmarks, dry runs)',
  settings: z.object({}).loose(),
  credentials: z.object({}).loose(),
  rateLimit: { max: 1_000_000, perMs: 1000 },
  batchSize: 500,
  batchWindowMs: 10,
  capabilities: {
    push: {
      contact: [...OPERATIONS].filter((op) => op !== 'activity'),
      company: ['upsert', 'archive'],
      activity: ['activity'],
      list_membership: ['list_add', 'list_remove'],
    },
  },
  defaultEvents: ['CRM_CONTACT_CREATED', 'CRM_CONTACT_UPDATED', 'CRM_COMPANY_CREATED', 'CRM_COMPANY_UPDATED'],
  accountKey: () => 'noop',
  createClient: () => ({
    async check() {
      return { ok: true, account: 'noop' };
    },
    async describeFields() {
      return [];
    },
    async push(batch) {
      return batch.map((record) => ({ status: 'ok' as const, externalId: `noop-${record.entityId}` }));
    },
  }),
});
