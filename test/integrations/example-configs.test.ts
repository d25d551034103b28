import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/paths.js';
import { loadIntegrationFile } from '../../src/integrations/load-integration-file.js';

const configDir = join(projectRoot, 'config');
const examples = readdirSync(configDir).filter((f) => f.endsWith('.example.yaml'));

/** A plausible value for every variable the examples reference without a default. */
const env: Record<string, string> = {
  HUBSPOT_TOKEN: 'pat-na1-00000000-0000-0000-0000-000000000000',
  MAILCHIMP_API_KEY: '0123456789abcdef0123456789abcdef-us6',
  MAILCHIMP_LIST_ID: 'a1b2c3d4e5',
  SLACK_BOT_TOKEN: 'xoxb-0000-0000-example',
  SEGMENT_WRITE_KEY: 'example-write-key',
  WEBHOOK_SIGNING_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
};

function requiredVariables(text: string): string[] {
  const withoutComments = text.replace(/(^|\s)#.*$/gm, '$1');
  return [...withoutComments.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string);
}

describe('config/*.example.yaml', () => {
  it.each(['HUBSPOT', 'MAILCHIMP', 'SLACK', 'SEGMENT', 'WEBHOOK'])('has an example for %s', (provider) => {
    expect(examples).toContain(`${provider.toLowerCase()}.example.yaml`);
  });

  it.each(examples)('%s is valid, with the variables it references set', async (name) => {
    const path = join(configDir, name);
    for (const variable of requiredVariables(readFileSync(path, 'utf8')))
      expect(Object.keys(env)).toContain(variable);
    const result = await loadIntegrationFile(path, env);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.integrations.map((i) => i.config.provider.toLowerCase())).toEqual([name.split('.')[0]]);
  });

  it.each(examples)('%s names the variable it needs when it is not set', async (name) => {
    const path = join(configDir, name);
    const [first] = requiredVariables(readFileSync(path, 'utf8'));
    const result = await loadIntegrationFile(path, { ...env, [first as string]: undefined });
    expect(result.problems.map((p) => p.message)).toContain(
      `environment variable ${first} is not set (write \${${first}:-default} to give a default)`,
    );
  });
});
