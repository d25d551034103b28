import { describe, expect, it } from 'vitest';
import { compileEntityMapping, MappingCompileError } from '../../src/mappings/index.js';
import type { EntityMappingInput } from '../../src/mappings/schema.js';

/** The contact mapping of CONTRACT §2. */
const contractMapping: EntityMappingInput = {
  match: 'email',
  fields: [
    { source: 'email', target: 'email', direction: 'both' },
    { source: 'givenName', target: 'firstname' },
    {
      source: 'lifecycleStage',
      target: 'lifecyclestage',
      direction: 'both',
      map: { LEAD: 'lead', CUSTOMER: 'customer' },
      default: 'subscriber',
    },
    { source: 'properties.mrr', target: 'mrr', transform: ['number'] },
    { source: 'tags', target: 'crm_tags', transform: [{ join: ';' }] },
    { target: 'full_name', template: '{{givenName}} {{familyName}}' },
    { target: 'crm_source', value: 'transactional' },
  ],
};

const ada = {
  id: 42,
  email: 'ada@example.com',
  givenName: 'Ada',
  familyName: 'Lovelace',
  lifecycleStage: 'CUSTOMER',
  properties: { mrr: '12.5' },
  tags: ['vip', 'beta'],
};

function compileOne(field: EntityMappingInput['fields'] extends (infer F)[] | undefined ? F : never) {
  return compileEntityMapping({ fields: [field] }, 'mappings.contact');
}

describe('compileEntityMapping: push', () => {
  it('maps the contract example to a provider payload', () => {
    const mapping = compileEntityMapping(contractMapping, 'mappings.contact');
    expect(mapping.push(ada)).toEqual({
      payload: {
        email: 'ada@example.com',
        firstname: 'Ada',
        lifecyclestage: 'customer',
        mrr: 12.5,
        crm_tags: 'vip;beta',
        full_name: 'Ada Lovelace',
        crm_source: 'transactional',
      },
      issues: [],
    });
  });

  it('describes what it writes and how records are matched', () => {
    const mapping = compileEntityMapping(contractMapping);
    expect(mapping.targets).toEqual([
      'email',
      'firstname',
      'lifecyclestage',
      'mrr',
      'crm_tags',
      'full_name',
      'crm_source',
    ]);
    expect(mapping.pullTargets).toEqual(['email', 'lifecyclestage']);
    expect(mapping.pullSources).toEqual(['email', 'lifecycleStage']);
    expect(mapping.match).toBe('email');
    expect(mapping.matchTarget).toBe('email');
    expect(mapping.warnings).toEqual([]);
  });

  it('leaves out a field whose source is missing or null instead of sending null', () => {
    const mapping = compileEntityMapping({
      fields: [
        { source: 'givenName', target: 'firstname' },
        { source: 'phone', target: 'phone' },
        { source: 'companies[0].name', target: 'company' },
      ],
    });
    expect(mapping.push({ givenName: 'Ada', phone: null, companies: [] })).toEqual({
      payload: { firstname: 'Ada' },
      issues: [],
    });
  });

  it('sends null for a missing source when the field says sendNull', () => {
    const mapping = compileOne({ source: 'phone', target: 'phone', sendNull: true });
    expect(mapping.push({ phone: null }).payload).toEqual({ phone: null });
    expect(mapping.push({}).payload).toEqual({ phone: null });
    expect(mapping.push({ phone: '+1' }).payload).toEqual({ phone: '+1' });
  });

  it('does not send null for a field left out because its value was bad, even with sendNull', () => {
    const mapping = compileOne({ source: 'n', target: 'n', transform: ['number'], sendNull: true });
    const result = mapping.push({ n: 'lots' });
    expect(result.payload).toEqual({});
    expect(result.issues).toHaveLength(1);
  });

  it('reads both index spellings and quoted keys', () => {
    const mapping = compileEntityMapping({
      fields: [
        { source: 'companies[0].name', target: 'a' },
        { source: 'companies.1.name', target: 'b' },
        { source: 'properties["Customer Tier"]', target: 'c' },
      ],
    });
    const snapshot = {
      companies: [{ name: 'Acme' }, { name: 'Globex' }],
      properties: { 'Customer Tier': 'gold' },
    };
    expect(mapping.push(snapshot).payload).toEqual({ a: 'Acme', b: 'Globex', c: 'gold' });
  });

  it('sends constants as they are, including null and objects', () => {
    const mapping = compileEntityMapping({
      fields: [
        { target: 'source', value: 'crm' },
        { target: 'cleared', value: null },
        { target: 'meta', value: { v: 1 } },
      ],
    });
    expect(mapping.push({}).payload).toEqual({ source: 'crm', cleared: null, meta: { v: 1 } });
  });

  it('applies a pull-only field on pull and never on push', () => {
    const mapping = compileOne({ source: 'properties.score', target: 'hs_score', direction: 'pull' });
    expect(mapping.push({ properties: { score: 3 } }).payload).toEqual({});
    expect(mapping.targets).toEqual([]);
    expect(mapping.pull({ hs_score: 9 }).values).toEqual({ 'properties.score': 9 });
  });

  it('reports a bad value with the field, its source and the value, and keeps the other fields', () => {
    const mapping = compileEntityMapping(contractMapping, 'mappings.contact');
    const result = mapping.push({ ...ada, properties: { mrr: 'twelve' } });
    expect(result.payload).not.toHaveProperty('mrr');
    expect(result.payload).toHaveProperty('firstname', 'Ada');
    expect(result.issues).toEqual([
      {
        path: 'mappings.contact.fields[3].transform[0]',
        severity: 'error',
        message: 'field "mrr" (from properties.mrr) left out: number: "twelve" is not a number',
      },
    ]);
  });

  it('cuts a long bad value in the issue so one record cannot flood a log', () => {
    const mapping = compileOne({ source: 'n', target: 'n', transform: ['number'] });
    const [issue] = mapping.push({ n: 'x'.repeat(5000) }).issues;
    expect(issue!.message.length).toBeLessThan(200);
  });

  it('never throws on records of the wrong shape', () => {
    const mapping = compileEntityMapping(contractMapping);
    for (const odd of [
      {},
      { properties: 'x', tags: 'not-a-list', companies: 5 },
      { email: { nested: true } },
    ]) {
      expect(() => mapping.push(odd)).not.toThrow();
    }
  });
});

describe('compileEntityMapping: templates', () => {
  it.each([
    ['{{givenName}} {{familyName}}', { givenName: 'Ada', familyName: 'Lovelace' }, 'Ada Lovelace'],
    ['{{givenName}} {{familyName}}', { familyName: 'Lovelace' }, 'Lovelace'],
    ['{{givenName}} {{familyName}}', { givenName: 'Ada', familyName: '' }, 'Ada'],
    ['{{a}} {{b}} {{c}}', { a: 'A', c: 'C' }, 'A C'],
    ['Dear {{ givenName }},', { givenName: 'Ada' }, 'Dear Ada,'],
    [
      '{{companies[0].name}} ({{companies.0.domain}})',
      { companies: [{ name: 'Acme', domain: 'acme.io' }] },
      'Acme (acme.io)',
    ],
    ['{{n}} seats, trial {{t}}', { n: 5, t: false }, '5 seats, trial false'],
    ['tags: {{tags}}', { tags: ['a', 'b'] }, 'tags: a, b'],
    ['{{givenName}}  -  {{familyName}}', { givenName: 'Ada' }, 'Ada  -'],
    ['static text', {}, 'static text'],
  ])('renders %j with %j', (template, snapshot, expected) => {
    const mapping = compileOne({ target: 'out', template });
    expect(mapping.push(snapshot).payload).toEqual({ out: expected });
  });

  it('leaves the field out when every placeholder is missing', () => {
    const mapping = compileOne({ target: 'full_name', template: '{{givenName}} {{familyName}}' });
    expect(mapping.push({ givenName: null }).payload).toEqual({});
  });

  it('sends null when every placeholder is missing and the field says sendNull', () => {
    const mapping = compileOne({
      target: 'full_name',
      template: '{{givenName}} {{familyName}}',
      sendNull: true,
    });
    expect(mapping.push({}).payload).toEqual({ full_name: null });
  });

  it('runs the transforms on the rendered text', () => {
    const mapping = compileOne({
      target: 'x',
      template: '{{a}}-{{b}}',
      transform: ['uppercase', { truncate: 3 }],
    });
    expect(mapping.push({ a: 'ab', b: 'cd' }).payload).toEqual({ x: 'AB-' });
  });
});

describe('compileEntityMapping: value maps', () => {
  const stage = {
    source: 'lifecycleStage',
    target: 'lifecyclestage',
    direction: 'both' as const,
    map: { LEAD: 'lead', CUSTOMER: 'customer' },
  };

  it('maps a known value', () => {
    expect(compileOne(stage).push({ lifecycleStage: 'LEAD' })).toEqual({
      payload: { lifecyclestage: 'lead' },
      issues: [],
    });
  });

  it('uses the default for a value that has no entry', () => {
    const mapping = compileOne({ ...stage, default: 'subscriber' });
    expect(mapping.push({ lifecycleStage: 'EVANGELIST' }).payload).toEqual({ lifecyclestage: 'subscriber' });
  });

  it('uses the default for a missing value', () => {
    const mapping = compileOne({ ...stage, default: 'subscriber' });
    expect(mapping.push({}).payload).toEqual({ lifecyclestage: 'subscriber' });
  });

  it('reports an unmapped value without a default and leaves the field out', () => {
    const result = compileOne(stage).push({ lifecycleStage: 'EVANGELIST' });
    expect(result.payload).toEqual({});
    expect(result.issues).toEqual([
      {
        path: 'mappings.contact.fields[0].map',
        severity: 'error',
        message:
          'field "lifecyclestage" (from lifecycleStage) left out: "EVANGELIST" has no entry in the map (allowed: LEAD, CUSTOMER) and there is no default',
      },
    ]);
  });

  it('looks numbers and booleans up by their text', () => {
    const mapping = compileEntityMapping({
      fields: [
        { source: 'isIdentified', target: 'known', map: { true: 'yes', false: 'no' } },
        { source: 'size', target: 'band', map: { '1': 'solo', '10': 'small' } },
      ],
    });
    expect(mapping.push({ isIdentified: true, size: 10 }).payload).toEqual({ known: 'yes', band: 'small' });
  });

  it('maps a list element by element', () => {
    const mapping = compileOne({
      source: 'tags',
      target: 'tags',
      map: { vip: 'VIP', beta: 'Beta' },
      transform: [{ join: ';' }],
    });
    expect(mapping.push({ tags: ['vip', 'beta'] }).payload).toEqual({ tags: 'VIP;Beta' });
    expect(mapping.push({ tags: ['vip', 'other'] }).issues[0]!.message).toMatch(
      /element \[1\]: "other" has no entry/,
    );
  });

  it('may map a value to null to clear the provider field', () => {
    const mapping = compileOne({
      source: 'status',
      target: 'status',
      map: { ARCHIVED: null, ACTIVE: 'active' },
    });
    expect(mapping.push({ status: 'ARCHIVED' }).payload).toEqual({ status: null });
  });

  it('inverts the map on pull', () => {
    expect(compileOne(stage).pull({ lifecyclestage: 'customer' })).toEqual({
      values: { lifecycleStage: 'CUSTOMER' },
      issues: [],
    });
  });

  it('reports a provider value the map does not know on pull', () => {
    const result = compileOne({ ...stage, default: 'subscriber' }).pull({ lifecyclestage: 'subscriber' });
    expect(result.values).toEqual({});
    expect(result.issues[0]).toMatchObject({
      path: 'mappings.contact.fields[0].map',
      message:
        'pull of "lifecyclestage" into lifecycleStage left out: provider value "subscriber" has no CRM value in the map (known: lead, customer)',
    });
  });

  it('pulls the first CRM value when two share a provider value, and warns about it', () => {
    const mapping = compileOne({
      ...stage,
      map: { MARKETING_QUALIFIED: 'lead', SALES_QUALIFIED: 'lead', CUSTOMER: 'customer' },
    });
    expect(mapping.pull({ lifecyclestage: 'lead' }).values).toEqual({
      lifecycleStage: 'MARKETING_QUALIFIED',
    });
    expect(mapping.warnings).toEqual([
      {
        path: 'mappings.contact.fields[0].map',
        severity: 'warning',
        message:
          '"MARKETING_QUALIFIED" and "SALES_QUALIFIED" both map to "lead"; a pull turns "lead" into "MARKETING_QUALIFIED" (the first)',
      },
    ]);
  });

  it('does not warn about shared provider values on a push-only field', () => {
    const mapping = compileOne({ ...stage, direction: 'push', map: { A: 'x', B: 'x' } });
    expect(mapping.warnings).toEqual([]);
  });
});

describe('compileEntityMapping: pull', () => {
  it('writes values under the CRM source path as written', () => {
    const mapping = compileEntityMapping({
      fields: [
        { source: 'properties.mrr', target: 'mrr', direction: 'both', transform: ['number'] },
        { source: 'email', target: 'email', direction: 'both', transform: ['email'] },
        { source: 'givenName', target: 'firstname' },
      ],
    });
    expect(mapping.pull({ mrr: '12', email: 'Ada@Example.com', firstname: 'ignored' })).toEqual({
      values: { 'properties.mrr': 12, email: 'ada@example.com' },
      issues: [],
    });
  });

  it('leaves out a field the provider does not have, or has as null', () => {
    const mapping = compileOne({ source: 'phone', target: 'phone', direction: 'both' });
    expect(mapping.pull({}).values).toEqual({});
    expect(mapping.pull({ phone: null }).values).toEqual({});
  });

  it('clears the CRM field when the provider has none and the field says sendNull', () => {
    const mapping = compileOne({ source: 'phone', target: 'phone', direction: 'both', sendNull: true });
    expect(mapping.pull({ phone: null }).values).toEqual({ phone: null });
  });

  it('does not read inherited properties of the provider record', () => {
    const mapping = compileOne({ source: 'x', target: 'constructor', direction: 'pull' });
    expect(mapping.pull({}).values).toEqual({});
  });
});

describe('compileEntityMapping: compile errors', () => {
  function issuesOf(mapping: EntityMappingInput) {
    try {
      compileEntityMapping(mapping, 'mappings.contact');
    } catch (error) {
      expect(error).toBeInstanceOf(MappingCompileError);
      return (error as MappingCompileError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    throw new Error('expected the mapping not to compile');
  }

  it.each<[string, EntityMappingInput, string[]]>([
    [
      'an unknown transform, with the nearest name',
      { fields: [{ source: 'email', target: 'email', transform: ['trim', 'lowrcase'] }] },
      [
        'mappings.contact.fields[0].transform[1]: unknown transform "lowrcase" (did you mean "lowercase"?); allowed: trim, lowercase, uppercase, truncate, email, string, number, integer, round, boolean, date, datetime, join, split, default, nullIfEmpty',
      ],
    ],
    [
      'a transform parameter of the wrong type',
      { fields: [{ source: 'n', target: 'n', transform: [{ truncate: 'long' }] }] },
      [
        'mappings.contact.fields[0].transform[0]: transform "truncate" needs a positive whole number of characters, e.g. { truncate: 100 }, got "long"',
      ],
    ],
    [
      'a required parameter left out',
      { fields: [{ source: 'tags', target: 'tags', transform: ['join'] }] },
      [
        'mappings.contact.fields[0].transform[0]: transform "join" needs a separator text, e.g. { join: ";" }',
      ],
    ],
    [
      'an unknown date format',
      { fields: [{ source: 'd', target: 'd', transform: [{ date: 'unix' }] }] },
      [
        'mappings.contact.fields[0].transform[0]: transform "date" needs "iso" or "epoch_ms", e.g. { date: epoch_ms }, got "unix"',
      ],
    ],
    [
      'a parameter on a transform that takes none',
      { fields: [{ source: 'e', target: 'e', transform: [{ trim: true }] }] },
      ['mappings.contact.fields[0].transform[0]: transform "trim" takes no parameter; write it as trim'],
    ],
    [
      'a malformed source path',
      { fields: [{ source: 'companies[first].name', target: 'c' }] },
      [
        'mappings.contact.fields[0].source: invalid path "companies[first].name": "[first]" at position 9 must be an index like [0] or a quoted key like ["a b"]',
      ],
    ],
    [
      'an unclosed template placeholder',
      { fields: [{ target: 'n', template: 'Hi {{givenName' }] },
      ['mappings.contact.fields[0].template: "{{" at position 3 is never closed with "}}"'],
    ],
    [
      'an empty template placeholder',
      { fields: [{ target: 'n', template: 'Hi {{ }}' }] },
      ['mappings.contact.fields[0].template: empty placeholder at position 3: the path is empty'],
    ],
    [
      'a constant that is pulled',
      { fields: [{ target: 'src', value: 'crm', direction: 'both' }] },
      [
        'mappings.contact.fields[0].direction: a constant (value) field is push only; there is no CRM field to pull "src" into (use direction: push)',
      ],
    ],
    [
      'a template that is pulled',
      { fields: [{ target: 'n', template: '{{a}}', direction: 'pull' }] },
      [
        'mappings.contact.fields[0].direction: a template field is push only; there is no CRM field to pull "n" into (use direction: push)',
      ],
    ],
    [
      'two fields writing one provider field',
      {
        fields: [
          { source: 'email', target: 'email' },
          { source: 'givenName', target: 'firstname' },
          { source: 'name', target: 'email' },
        ],
      },
      [
        'mappings.contact.fields[2].target: "email" is already written by mappings.contact.fields[0]; a provider field takes one value',
      ],
    ],
    [
      'two fields pulling into one CRM field, in either spelling',
      {
        fields: [
          { source: 'companies.0.name', target: 'company', direction: 'pull' },
          { source: 'companies[0].name', target: 'employer', direction: 'pull' },
        ],
      },
      [
        'mappings.contact.fields[1].source: companies[0].name is already pulled into by mappings.contact.fields[0]; a CRM field takes one value',
      ],
    ],
    [
      'a malformed match path',
      { match: 'email.', fields: [] },
      ['mappings.contact.match: invalid path "email.": the path ends with "."'],
    ],
    [
      "a shape error (zod), alongside the next field's typo",
      { fields: [{ target: 'x' }, { source: 'a', target: 'a', transform: ['uppercas'] }] },
      [
        'mappings.contact.fields[0]: a field needs one of source, value or template',
        'mappings.contact.fields[1].transform[0]: unknown transform "uppercas" (did you mean "uppercase"?); allowed: trim, lowercase, uppercase, truncate, email, string, number, integer, round, boolean, date, datetime, join, split, default, nullIfEmpty',
      ],
    ],
  ])('reports %s', (_name, mapping, expected) => {
    expect(issuesOf(mapping)).toEqual(expected);
  });

  it('reports every problem at once, not just the first', () => {
    const issues = issuesOf({
      fields: [
        { source: 'a', target: 'a', transform: ['nmber'] },
        { source: 'b..c', target: 'b' },
        { target: 'c', value: 1, direction: 'pull' },
      ],
    });
    expect(issues.map((i) => i.split(':')[0])).toEqual([
      'mappings.contact.fields[0].transform[0]',
      'mappings.contact.fields[1].source',
      'mappings.contact.fields[2].direction',
    ]);
  });

  it('puts every issue in the error message', () => {
    expect(() =>
      compileEntityMapping({ fields: [{ source: 'a', target: 'a', transform: ['lowrcase'] }] }),
    ).toThrow(
      /^invalid mapping: fields\[0\]\.transform\[0\]: unknown transform "lowrcase" \(did you mean "lowercase"\?\)/,
    );
  });

  it('warns, without failing, when no pushed field maps the match field', () => {
    const mapping = compileEntityMapping({
      match: 'email',
      fields: [{ source: 'givenName', target: 'firstname' }],
    });
    expect(mapping.matchTarget).toBeUndefined();
    expect(mapping.warnings).toEqual([
      {
        path: 'match',
        severity: 'warning',
        message: 'no pushed field has source "email", so the provider field to search by is unknown',
      },
    ]);
  });
});
