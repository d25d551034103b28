import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/paths.js';
import { mailchimpConnector } from '../../src/connectors/mailchimp/index.js';
import { createMailchimpSandbox } from '../../src/connectors/mailchimp/sandbox/index.js';
import { resolveOperation } from '../../src/engine/entity-ref.js';
import { entityTypeOf } from '../../src/events/event-types.js';
import { loadIntegrationFile } from '../../src/integrations/load-integration-file.js';
import { runCliCaptured } from '../helpers/run-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { createTestRedis, deletePrefix, testPrefix } from '../helpers/test-redis.js';

const example = join(projectRoot, 'config', 'mailchimp.example.yaml');
const sandbox = createMailchimpSandbox();
const apiKey = `${randomBytes(16).toString('hex')}-us1`;
const listId = 'stock1';

let t: TestDb;
let redis: Redis;
let prefix: string;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  t = await createTestDb();
  redis = createTestRedis();
  prefix = testPrefix('mc-example');
  dir = mkdtempSync(join(tmpdir(), 'crm-sync-mc-example-'));
  const { url } = await sandbox.start();
  sandbox.addAccount(apiKey, 'acme');
  // No merge fields given: the sandbox's stock audience (FNAME, LNAME, ADDRESS, PHONE, BIRTHDAY).
  sandbox.addAudience({ id: listId, apiKey });
  env = {
    DATABASE_URL: t.url,
    CRM_SYNC_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    CRM_SYNC_QUEUE_PREFIX: prefix,
    CRM_SYNC_LOG_LEVEL: 'silent',
    MAILCHIMP_BASE_URL: url,
    MAILCHIMP_API_KEY: apiKey,
    MAILCHIMP_LIST_ID: listId,
  };
});

afterAll(async () => {
  await sandbox.stop();
  await deletePrefix(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
  await t.drop();
});

/** The example with `edit` applied to its text, under another key so each variant is its own integration. */
function variant(name: string, edit: (text: string) => string): string {
  const path = join(dir, `${name}.yaml`);
  const text = edit(readFileSync(example, 'utf8')).replace(
    'key: mailchimp-newsletter',
    `key: mailchimp-${name}`,
  );
  if (!text.includes(`key: mailchimp-${name}`)) throw new Error('the example has no key line to replace');
  writeFileSync(path, text);
  return path;
}

const fieldWarnings = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.includes('mappings.contact.fields['))
    .map((line) => line.slice(line.indexOf('mappings.')));

describe('config/mailchimp.example.yaml', () => {
  it('subscribes to every event the Mailchimp connector handles, merges and deletions included', async () => {
    const { integrations, problems } = await loadIntegrationFile(example, env);
    expect(problems).toEqual([]);
    const events = integrations[0]?.config.events ?? [];
    expect(events).toEqual(expect.arrayContaining(['CRM_CONTACT_MERGED', 'CRM_CONTACT_DELETED']));
    expect([...events].sort()).toEqual([...(mailchimpConnector.defaultEvents ?? [])].sort());
    const operations = Object.fromEntries(
      events.map((type) => {
        const entity = entityTypeOf[type];
        return [type, resolveOperation(type, entity, mailchimpConnector.capabilities.push[entity])];
      }),
    );
    expect(operations).toMatchObject({ CRM_CONTACT_MERGED: 'merge', CRM_CONTACT_DELETED: 'archive' });
    expect(Object.entries(operations).filter(([, op]) => op === null)).toEqual([]);
  });

  it('applies against a stock audience, saying LIFECYCLE and COMPANY are left out until the audience has them', async () => {
    const { stdout, stderr, exitCode } = await runCliCaptured(env, 'integrations', 'apply', example);
    expect({ exitCode, stdout }).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/created/) });
    expect(fieldWarnings(stderr)).toEqual([
      expect.stringMatching(
        /^mappings\.contact\.fields\[4\]\.target: "LIFECYCLE" is not a Mailchimp contact field yet: one of the default mapping’s optional merge fields .*left out of every push until the audience has it/,
      ),
      expect.stringMatching(
        /^mappings\.contact\.fields\[5\]\.target: "COMPANY" is not a Mailchimp contact field yet/,
      ),
    ]);
  });

  it('passes integrations test once applied', async () => {
    const { stdout, exitCode } = await runCliCaptured(env, 'integrations', 'test', 'mailchimp-newsletter');
    expect(stdout).toContain('fields: contact checked against the live catalog');
    expect(stdout).toMatch(/warning: mappings\.contact\.fields\[4\]\.target: "LIFECYCLE"/);
    expect(exitCode).toBe(0);
  });

  it('applies with createMissingMergeFields, saying the first push creates the missing fields', async () => {
    const file = variant('create', (text) =>
      text.replace('createMissingMergeFields: false', 'createMissingMergeFields: true'),
    );
    const { stderr, exitCode } = await runCliCaptured(env, 'integrations', 'apply', file);
    expect(exitCode).toBe(0);
    expect(fieldWarnings(stderr)).toEqual([
      expect.stringMatching(
        /^mappings\.contact\.fields\[4\]\.target: "LIFECYCLE" .*the first push that sends it creates it/,
      ),
      expect.stringMatching(
        /^mappings\.contact\.fields\[5\]\.target: "COMPANY" .*the first push that sends it creates it/,
      ),
    ]);
  });

  it('refuses a target the audience lacks that is not optional, naming it, the fields there are and the fix', async () => {
    const file = variant('plan', (text) =>
      text.replace(
        '      - { source: "companies[0].name", target: COMPANY }\n',
        '      - { source: "companies[0].name", target: COMPANY }\n      - { source: properties.plan, target: PLAN }\n',
      ),
    );
    const { stdout, exitCode } = await runCliCaptured(env, 'integrations', 'apply', file);
    expect(exitCode).toBe(1);
    expect(stdout).toContain(
      `${file}: mappings.contact.fields[6].target: "PLAN" is not a Mailchimp contact field; fields: EMAIL, FNAME, LNAME, ADDRESS, PHONE, BIRTHDAY; add it to the audience in Mailchimp, set settings.createMissingMergeFields: true`,
    );
    expect(stdout).toContain('nothing applied');
  });
});
