import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, crmEvent, okResult, payloadOf, record } from './fixtures.js';
import { startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const emailOf = (i: number) => `tagged${i}@example.com`;

/** Contacts `ids` created as members of the audience, linked. */
async function createMembers(audience: ReturnType<typeof env.audience>, ids: number[]) {
  const created = await audience.push(
    ids.map((i) => {
      const c = contact(i + 1, emailOf(i));
      return record({
        operation: 'upsert',
        event: crmEvent('CRM_CONTACT_CREATED', c),
        entityId: String(i + 1),
        payload: payloadOf(c),
      });
    }),
  );
  expect(created.every((r) => r.status === 'ok')).toBe(true);
}

describe('tag events in batch runs against the Mailchimp sandbox', () => {
  it('tags 50 linked members with two batch runs, leaving a tag marketing set to marketing', async () => {
    const members = env.audience();
    const { listId, push, ctx, links } = members;
    await createMembers(
      members,
      Array.from({ length: 50 }, (_, i) => i),
    );
    // Marketing tagged one of them by hand before the CRM segment was tagged.
    const audience = env.sandbox.audience(listId);
    audience.setTags(audience.find(emailOf(7)) as NonNullable<ReturnType<typeof audience.find>>, [
      { name: 'Segment', status: 'active' },
    ]);

    const before = ctx.calls;
    const results = await push(
      Array.from({ length: 50 }, (_, i) =>
        record({
          operation: 'tag_add',
          event: crmEvent('CRM_CONTACT_TAG_ADDED', { ...contact(i + 1, emailOf(i)), tag: 'segment' }),
          entityId: String(i + 1),
        }),
      ),
    );

    // A run of 50 reads and a run of 49 tag POSTs: submit, one status read, results, each.
    expect(ctx.calls - before).toBe(6);
    expect(
      env.sandbox
        .batches()
        .slice(-2)
        .map((b) => b.operations),
    ).toEqual([50, 49]);
    for (let i = 0; i < 50; i++) {
      // One tag per name in an audience, as in Mailchimp: marketing's spelling is everyone's.
      expect(env.sandbox.member(listId, emailOf(i))?.tags.map((t) => t.name.toLowerCase())).toEqual([
        'segment',
      ]);
      if (i === 7) continue;
      expect(okResult(results[i]).state?.tags).toEqual(['segment']);
      expect(links.get(`contact:${i + 1}`)?.state.tags).toEqual(['segment']);
    }
    expect(results[7]).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('set outside the CRM'),
    });
    expect(links.get('contact:8')?.state.tags).toEqual([]);
  });
  /** Creates members `offset`..`offset + n - 1` and tags them all 'segment' (the CRM owns it). */
  async function taggedMembers(audience: ReturnType<typeof env.audience>, n: number, offset: number) {
    const ids = Array.from({ length: n }, (_, i) => i + offset);
    await createMembers(audience, ids);
    const tagged = await audience.push(ids.map((i) => tagRecord(i, 'CRM_CONTACT_TAG_ADDED')));
    expect(tagged.every((r) => r.status === 'ok')).toBe(true);
    return ids;
  }
  const tagRecord = (i: number, type: 'CRM_CONTACT_TAG_ADDED' | 'CRM_CONTACT_TAG_REMOVED') =>
    record({
      operation: type === 'CRM_CONTACT_TAG_ADDED' ? 'tag_add' : 'tag_remove',
      event: crmEvent(type, { ...contact(i + 1, emailOf(i)), tag: 'segment' }),
      entityId: String(i + 1),
    });

  it('skips the tag events of members marketing archived since the last sync, in batch runs and direct calls', async () => {
    for (const batchUpdatesFrom of [10, 0]) {
      const audience = env.audience({ batchUpdatesFrom });
      const ids = await taggedMembers(audience, 12, 100 + batchUpdatesFrom * 100);
      const archived = new Set([ids[3], ids[5]]);
      for (const i of archived) env.sandbox.audience(audience.listId).archive(emailOf(i as number));

      // Removals of a tag the CRM owns: no read before them, so the POST meets the archive.
      const results = await audience.push(ids.map((i) => tagRecord(i, 'CRM_CONTACT_TAG_REMOVED')));
      ids.forEach((i, position) => {
        if (archived.has(i)) {
          expect(results[position], `member ${i}`).toEqual({
            status: 'skipped',
            reason: `the member ${emailOf(i)} is archived in Mailchimp, which takes no tag changes; the CRM's tags follow when it is back`,
          });
          expect(audience.links.get(`contact:${i + 1}`)?.state.tags).toEqual(['segment']);
        } else {
          expect(okResult(results[position]).state?.tags, `member ${i}`).toEqual([]);
        }
      });
    }
  });

  it('keeps the tag changes of a run whose results cannot be read, once a read shows them done', async () => {
    const audience = env.audience();
    const ids = await taggedMembers(audience, 10, 500);
    // The run is applied, but its results download fails.
    env.sandbox.faults.add({ path: '/__sandbox/batch-results/', status: 503, times: 1 });
    const results = await audience.push(ids.map((i) => tagRecord(i, 'CRM_CONTACT_TAG_REMOVED')));
    ids.forEach((i, position) => {
      expect(okResult(results[position]).state?.tags, `member ${i}`).toEqual([]);
      expect(env.sandbox.member(audience.listId, emailOf(i))?.tags).toEqual([]);
    });
    // The tags run and the run reading its members again.
    expect(
      env.sandbox
        .batches()
        .slice(-2)
        .map((b) => b.operations),
    ).toEqual([10, 10]);
  });
});
