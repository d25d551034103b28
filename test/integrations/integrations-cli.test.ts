// biome-ignore-all lint/suspicious/noTemplateCurlyInString: YAML fixtures use ${NAME} interpolation

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { PROVIDERS } from '../../src/connectors/types.js';
import { type CliRun, runCliCaptured } from '../helpers/run-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

let t: TestDb;
let dir: string;
const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;

beforeAll(async () => {
  t = await createTestDb();
  dir = mkdtempSync(join(tmpdir(), 'crm-sync-cli-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t.drop();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

function file(name: string, ...lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function webhook(key: string, extra: string[] = []): string[] {
  return [
    `key: ${key}`,
    'organizationId: org_cli',
    'provider: WEBHOOK',
    `name: Webhook ${key}`,
    'settings: { url: "http://127.0.0.1:9/hook", allowPrivateNetwork: true }',
    'credentials: { signingSecret: ${WEBHOOK_SECRET} }',
    ...extra,
  ];
}

const encryptionKey = randomBytes(32).toString('hex');

/** Runs the CLI in this process against the test database; returns what it printed. */
function cli(...args: string[]) {
  return cliWith({}, ...args);
}

function cliWith(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const base = { DATABASE_URL: t.url, CRM_SYNC_ENCRYPTION_KEY: encryptionKey, WEBHOOK_SECRET: signingSecret };
  return runCliCaptured({ ...base, ...env }, ...args);
}

async function rowCount(): Promise<number> {
  const { rows } = await t.db.query('SELECT count(*)::int AS n FROM crm_sync.integrations');
  return rows[0].n;
}

describe('crm-sync integrations validate', () => {
  it('prints every problem of every file with its location and exits 1', async () => {
    const good = file('good.yaml', ...webhook('wh-good'));
    const bad = file(
      'bad.yaml',
      'key: wh-bad',
      'organizationId: org_cli',
      'provider: WEBHOK',
      'name: Bad',
      'mappings:',
      '  contact:',
      '    fields:',
      '      - { source: email, target: email, transform: [lowrcase] }',
    );
    const { stdout, exitCode } = await cli('integrations', 'validate', good, bad);
    expect(exitCode).toBe(1);
    expect(stdout.trimEnd().split('\n')).toEqual([
      `${bad}:3:1: provider: expected one of ${PROVIDERS.join(' | ')}, got "WEBHOK" (did you mean "WEBHOOK"?)`,
      expect.stringMatching(
        new RegExp(
          `^${bad.replace(/[.]/g, '\\.')}:8:53: mappings\\.contact\\.fields\\[0\\]\\.transform\\[0\\]: unknown transform "lowrcase" \\(did you mean "lowercase"\\?\\)`,
        ),
      ),
      '2 problems in 1 file',
    ]);
  });

  it('answers JSON for scripts and exits 0 when every file is valid, without a database', async () => {
    const good = file('valid.yaml', ...webhook('wh-valid'));
    vi.stubEnv('DATABASE_URL', 'postgres://nobody@127.0.0.1:1/none');
    const { stdout, exitCode } = await cli('integrations', 'validate', '--json', good);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      valid: true,
      integrations: [{ key: 'wh-valid', provider: 'WEBHOOK', file: good }],
      problems: [],
      warnings: [],
    });
  });
});

describe('crm-sync integrations apply', () => {
  it('applies nothing when any file is invalid', async () => {
    const before = await rowCount();
    const good = file('apply-good.yaml', ...webhook('wh-apply-none'));
    const bad = file('apply-bad.yaml', ...webhook('wh-apply-bad', ['events: [CRM_CONTACT_UPDATE]']));
    const { stdout, exitCode } = await cli('integrations', 'apply', good, bad);
    expect(exitCode).toBe(1);
    expect(stdout).toContain('events[0]: expected one of');
    expect(stdout).toContain('nothing applied');
    expect(await rowCount()).toBe(before);
  });

  it('creates, then reports unchanged when the same files are applied again', async () => {
    const a = file('apply-a.yaml', ...webhook('wh-a'));
    const b = file(
      'apply-b.yaml',
      'integrations:',
      '  - { key: slack-b, organizationId: org_cli, provider: SLACK, name: B }',
    );
    const first = await cli('integrations', 'apply', '--json', a, b);
    expect(first.exitCode).toBe(0);
    expect(
      JSON.parse(first.stdout).results.map((r: { key: string; action: string }) => [r.key, r.action]),
    ).toEqual([
      ['wh-a', 'created'],
      ['slack-b', 'created'],
    ]);
    const second = await cli('integrations', 'apply', a, b);
    expect(second.stdout).toMatch(/wh-a\s*│\s*WEBHOOK\s*│\s*unchanged/);
    expect(second.stdout).toMatch(/slack-b\s*│\s*SLACK\s*│\s*unchanged/);
  });
});

describe('crm-sync integrations list, show, pause and resume', () => {
  beforeAll(async () => {
    const applied = await cli('integrations', 'apply', file('shown.yaml', ...webhook('wh-shown')));
    expect(applied.exitCode).toBe(0);
  });

  it('lists integrations of an organization', async () => {
    const { stdout } = await cli('integrations', 'list', '--org', 'org_cli', '--json');
    expect(JSON.parse(stdout).map((i: { key: string }) => i.key)).toContain('wh-shown');
  });

  it('shows which credential keys are set, never their values', async () => {
    const human = await cli('integrations', 'show', 'wh-shown');
    const json = await cli('integrations', 'show', 'wh-shown', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      key: 'wh-shown',
      provider: 'WEBHOOK',
      credentialKeys: ['signingSecret'],
    });
    expect(human.stdout).toContain('credentialKeys:\n  - signingSecret');
    for (const out of [human.stdout, json.stdout]) expect(out).not.toContain(signingSecret.slice(6));
  });

  it('still shows an integration whose credentials this key cannot decrypt, and says why', async () => {
    const otherKey = randomBytes(32).toString('base64');
    const { stdout } = await cliWith(
      { CRM_SYNC_ENCRYPTION_KEY: otherKey },
      'integrations',
      'show',
      'wh-shown',
      '--json',
    );
    expect(JSON.parse(stdout)).toMatchObject({
      key: 'wh-shown',
      credentialKeys: null,
      credentialsError: expect.stringContaining(
        'CRM_SYNC_ENCRYPTION_KEY is not the key they were encrypted with',
      ),
    });
  });

  it('pauses with a reason and resumes', async () => {
    const paused = await cli('integrations', 'pause', 'wh-shown', '--reason', 'receiver maintenance');
    expect(paused.stdout.trim()).toBe('wh-shown: paused (receiver maintenance)');
    const shown = JSON.parse((await cli('integrations', 'show', 'wh-shown', '--json')).stdout);
    expect(shown).toMatchObject({ status: 'paused', statusReason: 'receiver maintenance' });
    const resumed = await cli('integrations', 'resume', 'wh-shown', '--json');
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      key: 'wh-shown',
      status: 'active',
      statusReason: null,
    });
  });

  it('names an unknown key and suggests the near one', async () => {
    const { stderr, exitCode } = await cli('integrations', 'show', 'wh-shwn');
    expect(exitCode).toBe(1);
    expect(stderr).toBe('crm-sync: no integration with key "wh-shwn" (did you mean "wh-shown"?)\n');
  });
});

describe('crm-sync --help', () => {
  it('lists the integrations commands', () => {
    const help =
      buildProgram()
        .commands.find((c) => c.name() === 'integrations')
        ?.helpInformation() ?? '';
    for (const command of ['validate', 'apply', 'list', 'show', 'pause', 'resume'])
      expect(help).toContain(command);
  });
});
