// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text, where ${NAME} is the interpolation syntax under test
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/connectors/types.js';
import { formatProblem } from '../../src/integrations/config-problem.js';
import { duplicateKeyProblems, parseIntegrationYaml } from '../../src/integrations/parse-integration-yaml.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;

const hubspot = lines(
  'key: hubspot-production',
  'organizationId: org_1',
  'provider: HUBSPOT',
  'name: HubSpot - Production',
  'credentials: { accessToken: ${HUBSPOT_TOKEN} }',
  'settings: { baseUrl: null }',
  'events: [CRM_CONTACT_CREATED, CRM_CONTACT_UPDATED]',
  'filter:',
  '  logic: AND',
  '  conditions:',
  '    - { type: field, field: status, operator: eq, value: ACTIVE }',
  'mappings:',
  '  contact:',
  '    match: email',
  '    fields:',
  '      - { source: email, target: email, direction: both }',
  '      - { source: lifecycleStage, target: lifecyclestage, map: { LEAD: lead }, default: subscriber }',
  'reconcile: { pull: true, every: 5m, conflict: newest_wins }',
  'rateLimit: { max: 80, perMs: 10000 }',
);

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  return parseIntegrationYaml(text, 'config/x.yaml', env).problems.map(formatProblem);
}

describe('parseIntegrationYaml', () => {
  it('reads the contract example, interpolating ${ENV} even unquoted inside a flow mapping', () => {
    const result = parseIntegrationYaml(hubspot, 'config/hubspot.yaml', { HUBSPOT_TOKEN: 'pat-1' });
    expect(result.problems).toEqual([]);
    expect(result.integrations).toHaveLength(1);
    const [parsed] = result.integrations;
    expect(parsed).toMatchObject({ file: 'config/hubspot.yaml', path: '', line: 1, col: 1 });
    expect(parsed?.config).toMatchObject({
      key: 'hubspot-production',
      organizationId: 'org_1',
      provider: 'HUBSPOT',
      enabled: true,
      credentials: { accessToken: 'pat-1' },
      reconcile: { pull: true, every: 300_000, conflict: 'newest_wins' },
    });
  });

  it('keeps an interpolated value whole, whatever YAML characters it holds', () => {
    const tricky = `a"b: c # d' {e} [f]\n- g`;
    const result = parseIntegrationYaml(hubspot, 'h.yaml', { HUBSPOT_TOKEN: tricky });
    expect(result.integrations[0]?.config.credentials).toEqual({ accessToken: tricky });
  });

  it('reads a list under integrations: and several YAML documents', () => {
    const text = lines(
      'integrations:',
      '  - { key: slack-a, organizationId: 1, provider: SLACK, name: A }',
      '  - { key: slack-b, organizationId: 1, provider: SLACK, name: B }',
      '---',
      'key: segment-c',
      'organizationId: 2',
      'provider: SEGMENT',
      'name: C',
    );
    const result = parseIntegrationYaml(text, 'all.yaml', {});
    expect(result.problems).toEqual([]);
    expect(result.integrations.map((i) => [i.config.key, i.path, i.line])).toEqual([
      ['slack-a', 'integrations[0]', 2],
      ['slack-b', 'integrations[1]', 3],
      ['segment-c', '', 5],
    ]);
  });

  it.each([
    [
      'a misspelt provider',
      lines('key: a', 'organizationId: o', 'provider: HUBSPT', 'name: A'),
      [
        `config/x.yaml:3:1: provider: expected one of ${PROVIDERS.join(' | ')}, got "HUBSPT" (did you mean "HUBSPOT"?)`,
      ],
    ],
    [
      'an unknown key',
      lines('key: a', 'organizationId: o', 'provider: SLACK', 'name: A', 'enabld: false'),
      ['config/x.yaml:5:1: enabld: unknown key "enabld" (did you mean "enabled"?)'],
    ],
    [
      'an unknown key nothing resembles, listing the allowed ones',
      lines('key: a', 'organizationId: o', 'provider: SLACK', 'name: A', 'reconcile: { pul: true, zzz: 1 }'),
      [
        'config/x.yaml:5:14: reconcile.pul: unknown key "pul" (did you mean "pull"?)',
        'config/x.yaml:5:25: reconcile.zzz: unknown key "zzz"; allowed: pull, every, conflict',
      ],
    ],
    [
      'missing required keys',
      lines('key: a', 'provider: SLACK'),
      [
        'config/x.yaml:1:1: organizationId: required: expected a string or a number',
        'config/x.yaml:1:1: name: required: expected a string',
      ],
    ],
    [
      'an unset environment variable, naming the variable',
      lines(
        'key: a',
        'organizationId: o',
        'provider: SLACK',
        'name: A',
        'credentials: { botToken: ${SLACK_TOKEN} }',
      ),
      [
        'config/x.yaml:5:16: credentials.botToken: environment variable SLACK_TOKEN is not set (write ${SLACK_TOKEN:-default} to give a default)',
      ],
    ],
    [
      'a number from the environment, which stays a string',
      lines(
        'key: a',
        'organizationId: o',
        'provider: SLACK',
        'name: A',
        'rateLimit: { max: ${MAX}, perMs: 1000 }',
      ),
      [
        'config/x.yaml:5:14: rateLimit.max: expected a number, got the string from ${MAX} (interpolated values are strings)',
      ],
    ],
    [
      'problems deep inside filters and mappings, all of them at once',
      lines(
        'key: a',
        'organizationId: o',
        'provider: SLACK',
        'name: A',
        'events: [CRM_CONTACT_UPDATE]',
        'filter:',
        '  conditions:',
        '    - { type: field, feild: status, operator: eq }',
        '    - { type: field, field: tags, operator: contain, value: vip }',
        'mappings:',
        '  contact:',
        '    fields:',
        '      - { source: email, target: email, direction: bth }',
        '      - { target: nothing }',
        '  contacts: {}',
        'reconcile: { every: 5 min }',
      ),
      [
        expect.stringMatching(
          /^config\/x\.yaml:5:10: events\[0\]: expected one of CRM_CONTACT_CREATED \| .* got "CRM_CONTACT_UPDATE" \(did you mean "CRM_CONTACT_UPDATED"\?\)$/,
        ),
        'config/x.yaml:8:7: filter.conditions[0].field: required: expected a string',
        'config/x.yaml:8:7: filter.conditions[0].value: operator "eq" needs a value',
        'config/x.yaml:8:22: filter.conditions[0].feild: unknown key "feild" (did you mean "field"?)',
        expect.stringMatching(
          /^config\/x\.yaml:9:35: filter\.conditions\[1\]\.operator: expected one of eq \| neq \| .*, got "contain" \(did you mean "contains"\?\)$/,
        ),
        'config/x.yaml:13:41: mappings.contact.fields[0].direction: expected one of push | pull | both, got "bth" (did you mean "both"?)',
        'config/x.yaml:14:9: mappings.contact.fields[1]: a field needs one of source, value or template',
        'config/x.yaml:15:3: mappings.contacts: unknown key "contacts" (did you mean "contact"?)',
        'config/x.yaml:16:14: reconcile.every: expected a duration like 30s, 5m or 1h, got "5 min"',
      ],
    ],
    [
      'a key that is not a valid integration key',
      lines('key: Hub Spot', 'organizationId: o', 'provider: SLACK', 'name: A'),
      [
        'config/x.yaml:1:1: key: expected lowercase letters, digits, "-" and "_", starting with a letter or digit, got "Hub Spot"',
      ],
    ],
    [
      'invalid YAML',
      lines('key: [a', 'provider: SLACK'),
      [expect.stringMatching(/^config\/x\.yaml:2:1: invalid YAML: /)],
    ],
    [
      'an empty file',
      '# nothing yet\n',
      [
        'config/x.yaml: no integration found: expected an integration (key, provider, …) or `integrations: [...]`',
      ],
    ],
    [
      'a bare list',
      lines('- key: a'),
      ['config/x.yaml:1:1: expected an integration (a mapping with key, provider, …), got a list'],
    ],
    [
      'integrations: that is not a list',
      lines('integrations: { key: a }'),
      ['config/x.yaml:1:1: integrations: expected a list of integrations, got a mapping'],
    ],
    [
      'keys beside integrations:',
      lines('defaults: {}', 'integrations: []'),
      [
        'config/x.yaml:1:1: defaults: unknown key "defaults": a document with `integrations:` holds only that list',
      ],
    ],
  ])('reports %s', (_case, text, expected) => {
    expect(problemsOf(text, { MAX: '80' })).toEqual(expected);
  });

  it('names the list entry a problem belongs to', () => {
    const text = lines(
      'integrations:',
      '  - { key: a, organizationId: 1, provider: SLACK, name: A }',
      '  - { key: b, organizationId: 1, provider: SLAK, name: B }',
    );
    expect(problemsOf(text)).toEqual([
      `config/x.yaml:3:34: integrations[1].provider: expected one of ${PROVIDERS.join(' | ')}, got "SLAK" (did you mean "SLACK"?)`,
    ]);
  });

  it('reports a key declared twice, pointing at the first declaration', () => {
    const one = parseIntegrationYaml(
      lines('key: a', 'organizationId: 1', 'provider: SLACK', 'name: A'),
      'one.yaml',
      {},
    );
    const two = parseIntegrationYaml(
      lines('integrations:', '  - { key: a, organizationId: 1, provider: SLACK, name: A2 }'),
      'two.yaml',
      {},
    );
    expect(duplicateKeyProblems([one, two]).map(formatProblem)).toEqual([
      'two.yaml:2:5: integrations[0].key: duplicate integration key "a" (first declared at one.yaml:1)',
    ]);
  });

  describe("with the provider's connector registered (WEBHOOK)", () => {
    const webhook = (...extra: string[]) =>
      lines('key: wh', 'organizationId: o', 'provider: WEBHOOK', 'name: Hook', ...extra);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

    it('accepts settings and credentials its own schemas accept', () => {
      const text = webhook(
        'settings: { url: "https://hooks.example.com/crm" }',
        'credentials: { signingSecret: ${SECRET} }',
      );
      expect(parseIntegrationYaml(text, 'w.yaml', { SECRET: secret }).problems).toEqual([]);
    });

    it("checks the connector's settings and credentials, never quoting a secret or an interpolated value", () => {
      const text = webhook(
        'settings: { url: ${HOOK_URL}, allowPrivateNetwrk: true }',
        'credentials: { signingSecret: ${SECRET}, headers: { Authorization: 42 } }',
      );
      const env = { HOOK_URL: 'ftp://private-host.internal/x', SECRET: 'whsec_c2hvcnQ=' };
      const problems = problemsOf(text, env);
      expect(problems).toEqual([
        'config/x.yaml:5:13: settings.url: url must be an absolute http:// or https:// URL, got the string from ${HOOK_URL}',
        'config/x.yaml:5:31: settings.allowPrivateNetwrk: unknown key "allowPrivateNetwrk" (did you mean "allowPrivateNetwork"?)',
        'config/x.yaml:6:16: credentials.signingSecret: signingSecret must decode to 24–64 bytes (Standard Webhooks), this one is 5 bytes',
        'config/x.yaml:6:53: credentials.headers.Authorization: expected a string, got a number (value hidden)',
      ]);
      for (const value of [...Object.values(env), 'c2hvcnQ', '42'])
        expect(problems.join('\n')).not.toContain(value);
    });
  });
});
