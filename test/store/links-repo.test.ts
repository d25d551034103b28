import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLinks, type LinkWrite, linkKey, saveSyncedLinks } from '../../src/store/links-repo.js';
import { createTestDb, insertBareIntegration, type TestDb } from '../helpers/test-db.js';

let t: TestDb;
let integrationId: string;

beforeAll(async () => {
  t = await createTestDb();
  integrationId = await insertBareIntegration(t.db, 'links-test', 'NOOP');
});

afterAll(() => t?.drop());

const write = (entityId: string, externalId: string | null, over: Partial<LinkWrite> = {}): LinkWrite => ({
  entityType: 'contact',
  entityId,
  crmExternalId: `ctc_${entityId}`,
  crmEmail: `person${entityId}@example.com`,
  externalId,
  syncHash: `hash-${entityId}`,
  lastEventId: `evt_${entityId}`,
  lastVersion: 1,
  lastUpdatedAt: new Date('2026-11-01T10:00:00Z'),
  state: { tags: ['vip'] },
  ...over,
});

const linksOf = (...ids: string[]) =>
  findLinks(
    t.db,
    integrationId,
    ids.map((entityId) => ({ entityType: 'contact', entityId })),
  );

describe('saveSyncedLinks', () => {
  it('creates and updates the links of a batch in one statement, keeping what the write leaves out', async () => {
    await saveSyncedLinks(t.db, integrationId, [write('1', 'ext-1'), write('2', 'ext-2')]);
    await saveSyncedLinks(t.db, integrationId, [
      write('1', null, { syncHash: 'hash-1b', lastEventId: 'evt_1b', lastVersion: null, crmEmail: null }),
    ]);
    const links = await linksOf('1', '2');
    expect(links.get(linkKey('contact', '1'))).toMatchObject({
      externalId: 'ext-1',
      syncHash: 'hash-1b',
      lastEventId: 'evt_1b',
      lastVersion: 1,
      state: { tags: ['vip'] },
    });
    expect(links.get(linkKey('contact', '2'))).toMatchObject({ externalId: 'ext-2', syncHash: 'hash-2' });
  });

  it('moves a provider id to the record the provider just confirmed it for', async () => {
    await saveSyncedLinks(t.db, integrationId, [write('10', 'ext-shared'), write('11', 'ext-11')]);
    // The provider merged record 10 into 11's contact: syncing 12 now answers with 10's id.
    await saveSyncedLinks(t.db, integrationId, [write('12', 'ext-shared'), write('13', 'ext-13')]);
    const links = await linksOf('10', '11', '12', '13');
    expect(links.get(linkKey('contact', '10'))?.externalId).toBeNull();
    expect(links.get(linkKey('contact', '10'))?.syncHash).toBe('hash-10');
    expect(links.get(linkKey('contact', '11'))?.externalId).toBe('ext-11');
    expect(links.get(linkKey('contact', '12'))?.externalId).toBe('ext-shared');
    expect(links.get(linkKey('contact', '13'))?.externalId).toBe('ext-13');
  });

  it('still fails on errors other than a provider id taken by another record', async () => {
    await expect(
      saveSyncedLinks(t.db, '00000000-0000-0000-0000-000000000000', [write('20', 'ext-20')]),
    ).rejects.toThrow(/foreign key/);
  });
});
