import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, crmEvent, okResult, payloadOf, record } from './fixtures.js';
import { startSandbox } from './sandbox-fixture.js';

let env: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  env = await startSandbox();
});
afterAll(() => env.stop());

const emailOf = (i: number) => `tagged${i}@example.com`;

describe('tag events in batch runs against the Mailchimp sandbox', () => {
  it('tags 50 linked members with two batch runs, leaving a tag marketing set to marketing', async () => {
    const { listId, push, ctx, links } = env.audience();
    const created = await push(
      Array.from({ length: 50 }, (_, i) => {
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
});
