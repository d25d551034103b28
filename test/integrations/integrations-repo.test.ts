import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationConfig, type IntegrationConfigInput } from '../../src/integrations/schema.js';
import { createCredentialsCipher } from '../../src/store/credentials-cipher.js';
import {
  deleteIntegration,
  getIntegrationById,
  getIntegrationByKey,
  IntegrationKeyConflictError,
  listEnabledIntegrationsForOrg,
  listIntegrations,
  loadCredentials,
  setIntegrationStatus,
  upsertIntegration,
} from '../../src/store/integrations-repo.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

let t: TestDb;
const cipher = createCredentialsCipher(randomBytes(32));

beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t.drop();
});

function config(overrides: Partial<IntegrationConfigInput> = {}): IntegrationConfig {
  return IntegrationConfig.parse({
    key: 'hubspot-production',
    organizationId: 'org_1',
    provider: 'HUBSPOT',
    name: 'HubSpot - Production',
    credentials: { accessToken: 'pat-na1-secret' },
    settings: { deleteMode: 'archive' },
    events: ['CRM_CONTACT_CREATED'],
    ...overrides,
  });
}

describe('integrations repository', () => {
  it('creates, then reports unchanged when the same config is applied again', async () => {
    const first = await upsertIntegration(t.db, config({ key: 'idem' }), cipher);
    const second = await upsertIntegration(t.db, config({ key: 'idem' }), cipher);
    expect(first.action).toBe('created');
    expect(second.action).toBe('unchanged');
    expect(second.integration.id).toBe(first.integration.id);
    expect(second.integration.updatedAt).toEqual(first.integration.updatedAt);
  });

  it('updates when the config changes, keeping the id and the status', async () => {
    const { integration } = await upsertIntegration(t.db, config({ key: 'changing' }), cipher);
    await setIntegrationStatus(t.db, integration.id, { status: 'paused', reason: 'operator' });
    const changed = await upsertIntegration(t.db, config({ key: 'changing', name: 'Renamed' }), cipher);
    expect(changed.action).toBe('updated');
    expect(changed.integration).toMatchObject({ id: integration.id, name: 'Renamed', status: 'paused' });
  });

  it('treats a rotated credential as an update and stores the new one', async () => {
    await upsertIntegration(t.db, config({ key: 'rotated' }), cipher);
    const rotated = await upsertIntegration(
      t.db,
      config({ key: 'rotated', credentials: { accessToken: 'pat-na1-new' } }),
      cipher,
    );
    expect(rotated.action).toBe('updated');
    expect(await loadCredentials(t.db, rotated.integration.id, cipher)).toEqual({
      accessToken: 'pat-na1-new',
    });
  });

  it('stores credentials only as ciphertext and the config without them', async () => {
    const { integration } = await upsertIntegration(t.db, config({ key: 'secretive' }), cipher);
    const { rows } = await t.db.query(
      'SELECT credentials, config::text AS config, config_hash FROM crm_sync.integrations WHERE id = $1',
      [integration.id],
    );
    expect(rows[0].credentials).toMatch(/^v1:/);
    expect(JSON.stringify(rows[0])).not.toContain('pat-na1-secret');
    expect(JSON.parse(rows[0].config)).not.toHaveProperty('credentials');
    expect(integration.config).not.toHaveProperty('credentials');
    expect(await loadCredentials(t.db, integration.id, cipher)).toEqual({ accessToken: 'pat-na1-secret' });
  });

  it('refuses credentials copied from another integration row', async () => {
    const a = await upsertIntegration(t.db, config({ key: 'copy-a' }), cipher);
    const b = await upsertIntegration(t.db, config({ key: 'copy-b' }), cipher);
    await t.db.query(
      'UPDATE crm_sync.integrations SET credentials = (SELECT credentials FROM crm_sync.integrations WHERE id = $1) WHERE id = $2',
      [a.integration.id, b.integration.id],
    );
    await expect(loadCredentials(t.db, b.integration.id, cipher)).rejects.toThrow(
      /belong to another integration/,
    );
  });

  it('refuses to move a key to another provider or organization', async () => {
    await upsertIntegration(t.db, config({ key: 'moving' }), cipher);
    await expect(
      upsertIntegration(t.db, config({ key: 'moving', provider: 'SLACK', settings: {} }), cipher),
    ).rejects.toThrow(IntegrationKeyConflictError);
    await expect(
      upsertIntegration(t.db, config({ key: 'moving', organizationId: 'org_2' }), cipher),
    ).rejects.toThrow('integration "moving" already exists for provider HUBSPOT of organization org_1');
  });

  it('finds by key and by id, and answers null for unknown ones', async () => {
    const { integration } = await upsertIntegration(t.db, config({ key: 'findable' }), cipher);
    expect(await getIntegrationByKey(t.db, 'findable')).toEqual(integration);
    expect(await getIntegrationById(t.db, integration.id)).toEqual(integration);
    expect(await getIntegrationByKey(t.db, 'nope')).toBeNull();
    expect(await getIntegrationById(t.db, '00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(await loadCredentials(t.db, '00000000-0000-4000-8000-000000000000', cipher)).toBeNull();
  });

  it("lists an organization's enabled integrations, paused ones included, with one indexed query", async () => {
    await upsertIntegration(t.db, config({ key: 'org9-on', organizationId: 'org_9' }), cipher);
    await upsertIntegration(
      t.db,
      config({ key: 'org9-off', organizationId: 'org_9', enabled: false }),
      cipher,
    );
    const paused = await upsertIntegration(
      t.db,
      config({ key: 'org9-paused', organizationId: 'org_9' }),
      cipher,
    );
    await setIntegrationStatus(t.db, paused.integration.id, { status: 'paused', reason: 'auth failed' });
    await upsertIntegration(t.db, config({ key: 'org8-on', organizationId: 'org_8' }), cipher);

    const enabled = await listEnabledIntegrationsForOrg(t.db, 'org_9');
    expect(enabled.map((i) => [i.key, i.status])).toEqual([
      ['org9-on', 'active'],
      ['org9-paused', 'paused'],
    ]);
    expect((await listIntegrations(t.db, { organizationId: 'org_9' })).map((i) => i.key)).toEqual([
      'org9-off',
      'org9-on',
      'org9-paused',
    ]);
    expect((await listIntegrations(t.db, { enabledOnly: true })).map((i) => i.key)).not.toContain('org9-off');

    const client = await t.db.connect();
    try {
      // A planner with a handful of rows prefers a scan; forbid it to see that the index serves the query.
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query(
        `EXPLAIN SELECT id FROM crm_sync.integrations WHERE organization_id = 'org_9' AND enabled ORDER BY key`,
      );
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('integrations_org_idx');
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });

  it('pauses with a reason and an end, and resumes clearing both', async () => {
    const { integration } = await upsertIntegration(t.db, config({ key: 'pausable' }), cipher);
    const until = new Date('2030-01-01T00:00:00Z');
    const paused = await setIntegrationStatus(t.db, integration.id, {
      status: 'paused',
      reason: 'daily quota',
      pausedUntil: until,
    });
    expect(paused).toMatchObject({ status: 'paused', statusReason: 'daily quota', pausedUntil: until });
    expect(paused?.updatedAt.getTime()).toBeGreaterThanOrEqual(integration.updatedAt.getTime());
    const resumed = await setIntegrationStatus(t.db, integration.id, { status: 'active', reason: null });
    expect(resumed).toMatchObject({ status: 'active', statusReason: null, pausedUntil: null });
  });

  it('deletes an integration once', async () => {
    const { integration } = await upsertIntegration(t.db, config({ key: 'doomed' }), cipher);
    expect(await deleteIntegration(t.db, integration.id)).toBe(true);
    expect(await deleteIntegration(t.db, integration.id)).toBe(false);
    expect(await getIntegrationById(t.db, integration.id)).toBeNull();
  });
});
