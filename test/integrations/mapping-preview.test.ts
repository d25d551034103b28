import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MappingPreviewError, previewMapping } from '../../src/integrations/mapping-preview.js';
import type { MappingsInput } from '../../src/mappings/schema.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const contact = {
  id: 42,
  email: 'Ada@Example.com',
  givenName: 'Ada',
  familyName: 'Lovelace',
  lifecycleStage: 'LEAD',
  properties: { mrr: '120.5' },
  tags: ['vip', 'beta'],
};
const envelope = (type: string, data: unknown) => ({
  id: 'evt_1',
  type,
  organizationId: 'org_1',
  occurredAt: '2026-11-22T10:30:00.000Z',
  data,
});
const mappings: MappingsInput = {
  contact: {
    match: 'email',
    fields: [
      { source: 'email', target: 'email', transform: ['lowercase'] },
      { source: 'lifecycleStage', target: 'lifecyclestage', map: { LEAD: 'lead' }, default: 'subscriber' },
      { source: 'properties.mrr', target: 'mrr', transform: ['number'] },
      { source: 'tags', target: 'crm_tags', transform: [{ join: ';' }] },
      { target: 'full_name', template: '{{givenName}} {{familyName}}' },
    ],
  },
};
const expectedPayload = {
  email: 'ada@example.com',
  lifecyclestage: 'lead',
  mrr: 120.5,
  crm_tags: 'vip;beta',
  full_name: 'Ada Lovelace',
};

describe('previewMapping', () => {
  it("applies the integration's own mapping to a snapshot", () => {
    expect(previewMapping({ provider: 'HUBSPOT', mappings, record: contact })).toEqual({
      entity: 'contact',
      mappingSource: 'integration',
      payload: expectedPayload,
      issues: [],
    });
  });

  it("takes an event envelope's data, and a merge's winner", () => {
    const updated = previewMapping({
      provider: 'HUBSPOT',
      mappings,
      record: envelope('CRM_CONTACT_UPDATED', contact),
    });
    const merged = previewMapping({
      provider: 'HUBSPOT',
      mappings,
      record: envelope('CRM_CONTACT_MERGED', { winner: contact, loserId: 7 }),
    });
    expect(updated.payload).toEqual(expectedPayload);
    expect(merged.payload).toEqual(expectedPayload);
  });

  it("falls back to the connector's default mapping for an entity the integration does not map", () => {
    const company = { id: 3, name: 'Analytical Engines', domain: 'engines.example' };
    const preview = previewMapping({
      provider: 'WEBHOOK',
      mappings,
      record: envelope('CRM_COMPANY_UPDATED', company),
    });
    expect(preview).toMatchObject({ entity: 'company', mappingSource: 'connector-default' });
    expect(preview.payload).toMatchObject({ id: 3, name: 'Analytical Engines', domain: 'engines.example' });
  });

  it('reports what applying the mapping to this record found, field by field', () => {
    const preview = previewMapping({
      provider: 'HUBSPOT',
      mappings,
      record: { ...contact, properties: { mrr: 'a lot' } },
    });
    expect(preview.payload).not.toHaveProperty('mrr');
    expect(preview.issues).toEqual([
      expect.objectContaining({ message: expect.stringContaining('"a lot"') }),
    ]);
  });

  it('shows compile problems instead of a payload when the mapping cannot work', () => {
    const broken: MappingsInput = {
      contact: { fields: [{ source: 'email', target: 'email', transform: ['lowrcase'] }] },
    };
    const preview = previewMapping({ provider: 'HUBSPOT', mappings: broken, record: contact });
    expect(preview.payload).toBeNull();
    expect(preview.issues).toEqual([
      expect.objectContaining({
        path: 'mappings.contact.fields[0].transform[0]',
        severity: 'error',
        message: expect.stringMatching(/^unknown transform "lowrcase" \(did you mean "lowercase"\?\)/),
      }),
    ]);
  });

  it.each([
    [
      'a record that is not a CRM contact',
      { mappings, record: envelope('CRM_CONTACT_UPDATED', { email: 'x' }) },
      /not a valid CRM contact:\n {2}data\.id: /,
    ],
    [
      'an unknown event type',
      { mappings, record: envelope('CRM_DEAL_WON', {}) },
      /unknown event type "CRM_DEAL_WON"/,
    ],
    [
      'no mapping anywhere',
      {
        mappings: {},
        record: { id: 1, contactId: 1, type: 'NOTE', occurredAt: '2026-11-22T10:30:00.000Z' },
        entity: 'activity' as const,
      },
      /no activity mapping: the integration declares none and the SLACK connector is not available/,
    ],
  ])('refuses %s with a message saying why', (_case, input, message) => {
    expect(() => previewMapping({ provider: 'SLACK', ...input })).toThrow(MappingPreviewError);
    expect(() => previewMapping({ provider: 'SLACK', ...input })).toThrow(message);
  });
});

describe('crm-sync mapping preview', () => {
  let t: TestDb;
  let dir: string;
  const lines = (...text: string[]) => `${text.join('\n')}\n`;

  beforeAll(async () => {
    t = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'crm-sync-preview-'));
    writeFileSync(join(dir, 'record.json'), JSON.stringify(envelope('CRM_CONTACT_CREATED', contact)));
    writeFileSync(
      join(dir, 'hubspot.yaml'),
      lines(
        'key: hs-preview',
        'organizationId: org_1',
        'provider: HUBSPOT',
        'name: Preview',
        'credentials: { accessToken: pat-preview }',
        'mappings:',
        '  contact:',
        '    fields:',
        '      - { source: email, target: email, transform: [lowercase] }',
        '      - { target: full_name, template: "{{givenName}} {{familyName}}" }',
      ),
    );
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.drop();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  });

  const key = randomBytes(32).toString('base64');
  const cli = (...args: string[]) =>
    runCliCaptured({ DATABASE_URL: t.url, CRM_SYNC_ENCRYPTION_KEY: key }, ...args);

  it('previews a YAML file before it is applied', async () => {
    const { stdout } = await cli(
      'mapping',
      'preview',
      join(dir, 'hubspot.yaml'),
      '--record',
      join(dir, 'record.json'),
      '--json',
    );
    expect(JSON.parse(stdout)).toEqual({
      integration: 'hs-preview',
      provider: 'HUBSPOT',
      entity: 'contact',
      mappingSource: 'integration',
      payload: { email: 'ada@example.com', full_name: 'Ada Lovelace' },
      issues: [],
    });
  });

  it('previews an applied integration by key, for people', async () => {
    const applied = await cli('integrations', 'apply', join(dir, 'hubspot.yaml'));
    expect(applied.stdout).toContain('created');
    const { stdout } = await cli('mapping', 'preview', 'hs-preview', '--record', join(dir, 'record.json'));
    expect(stdout).toBe(
      `hs-preview (HUBSPOT), contact mapping from the integration\n${JSON.stringify(
        { email: 'ada@example.com', full_name: 'Ada Lovelace' },
        null,
        2,
      )}\n`,
    );
  });

  it('names a misspelt entity', async () => {
    const { stderr, exitCode } = await cli(
      'mapping',
      'preview',
      'hs-preview',
      '--record',
      join(dir, 'record.json'),
      '--entity',
      'compny',
    );
    expect(stderr).toBe(
      'crm-sync: --entity: expected one of contact | company | activity, got "compny" (did you mean "company"?)\n',
    );
    expect(exitCode).toBe(1);
  });
});
