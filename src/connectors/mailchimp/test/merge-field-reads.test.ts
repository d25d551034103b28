import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, crmEvent, payloadOf, record } from './fixtures.js';
import { startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const upsert = (c: ReturnType<typeof contact>, extra: Record<string, unknown>) =>
  record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_CREATED', c),
    entityId: String(c.id),
    payload: payloadOf(c, extra),
  });

const catalogReads = (listId: string) =>
  env.sandbox.traffic.log.filter((e) => e.method === 'GET' && e.path === `/lists/${listId}/merge-fields`)
    .length;

describe('reading the merge field catalog', () => {
  it('reads it once for many pushes of the default optional fields a stock audience lacks', async () => {
    const { listId, push } = env.audience();
    for (let i = 1; i <= 3; i++) {
      const results = await push([
        upsert(contact(i, `p${i}@example.com`), { LIFECYCLE: 'LEAD', COMPANY: 'Acme' }),
      ]);
      expect(results[0]?.status).toBe('ok');
    }
    expect(catalogReads(listId)).toBe(1);
    expect(env.sandbox.member(listId, 'p1@example.com')?.merge_fields).not.toHaveProperty('LIFECYCLE');
  });

  it('reads it again when a push needs a tag it lacks, and finds one an admin just added', async () => {
    const { listId, push } = env.audience();
    await push([upsert(contact(1, 'q1@example.com'), {})]);
    env.sandbox
      .audience(listId)
      .addMergeField({ tag: 'PLAN', name: 'Plan', type: 'text', required: false, options: { size: 25 } });
    const [result] = await push([upsert(contact(2, 'q2@example.com'), { PLAN: 'Pro' })]);
    expect(result?.status).toBe('ok');
    expect(catalogReads(listId)).toBe(2);
    expect(env.sandbox.member(listId, 'q2@example.com')?.merge_fields).toMatchObject({ PLAN: 'Pro' });
  });
});
