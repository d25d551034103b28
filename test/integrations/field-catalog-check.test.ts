import { describe, expect, it } from 'vitest';
import type { FieldDescriptor } from '../../src/connectors/types.js';
import { checkMappingAgainstCatalog } from '../../src/integrations/field-catalog-check.js';
import { EntityMapping, type FieldMappingInput } from '../../src/mappings/schema.js';

const catalog: FieldDescriptor[] = [
  { name: 'email', type: 'string' },
  { name: 'firstname', type: 'string' },
  { name: 'lifecyclestage', type: 'enumeration', options: ['subscriber', 'lead', 'customer'] },
  { name: 'mrr', type: 'number' },
  { name: 'vip', type: 'boolean' },
  { name: 'renewal_date', type: 'date' },
  { name: 'hs_object_id', type: 'string', readOnly: true },
];

const check = (...fields: FieldMappingInput[]) =>
  checkMappingAgainstCatalog('contact', EntityMapping.parse({ fields }), catalog, 'HubSpot');

describe('checking a mapping against the provider field catalog', () => {
  it('accepts targets that exist, are writable and fit their type', () => {
    expect(
      check(
        { source: 'email', target: 'email' },
        { source: 'lifecycleStage', target: 'lifecyclestage', map: { LEAD: 'lead' }, default: 'subscriber' },
        { source: 'properties.mrr', target: 'mrr', transform: ['number'] },
        { source: 'properties.renewal', target: 'renewal_date', transform: ['date'] },
        { target: 'vip', value: true },
      ),
    ).toEqual([]);
  });

  it.each([
    [
      { source: 'givenName', target: 'firstnam' },
      'mappings.contact.fields[0].target',
      '"firstnam" is not a HubSpot contact field (did you mean "firstname"?)',
    ],
    [{ source: 'id', target: 'hs_object_id' }, 'mappings.contact.fields[0].target', 'read-only'],
    [
      { source: 'lifecycleStage', target: 'lifecyclestage', map: { LEAD: 'leed' } },
      'mappings.contact.fields[0].map.LEAD',
      '"leed" is not an option of lifecyclestage (did you mean "lead"?)',
    ],
    [
      { target: 'lifecyclestage', value: 'prospect' },
      'mappings.contact.fields[0].value',
      'options: subscriber, lead, customer',
    ],
    [
      { source: 'x', target: 'lifecyclestage', default: 'nope' },
      'mappings.contact.fields[0].default',
      'is not an option',
    ],
    [{ target: 'mrr', value: 'lots' }, 'mappings.contact.fields[0].value', 'is not a number'],
    [{ target: 'vip', value: 'yes' }, 'mappings.contact.fields[0].value', 'is not true or false'],
    [
      { source: 'x', target: 'mrr', transform: ['boolean'] },
      'mappings.contact.fields[0].transform',
      'is numeric',
    ],
  ] as [FieldMappingInput, string, string][])('reports %o at %s', (field, path, message) => {
    const issues = check(field).filter((i) => i.severity === 'error');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(path);
    expect(issues[0]!.message).toContain(message);
  });

  it('warns when a date field gets no date transform', () => {
    expect(check({ source: 'properties.renewal', target: 'renewal_date' })).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'mappings.contact.fields[0].transform' }),
    ]);
  });

  it('lists the writable fields there are when a target is missing', () => {
    expect(check({ source: 'x', target: 'plan' })[0]?.message).toBe(
      '"plan" is not a HubSpot contact field; fields: email, firstname, lifecyclestage, mrr, vip, renewal_date',
    );
  });

  it('warns instead of failing for a missing target the connector copes with, and passes on its reason otherwise', () => {
    const explain = (target: string) =>
      target === 'seats'
        ? { accepted: true, note: 'created at the first push' }
        : { accepted: false, note: 'create it first' };
    const issues = checkMappingAgainstCatalog(
      'contact',
      EntityMapping.parse({
        fields: [
          { source: 'a', target: 'seats' },
          { source: 'b', target: 'plan' },
        ],
      }),
      catalog,
      'HubSpot',
      explain,
    );
    expect(issues).toEqual([
      {
        path: 'mappings.contact.fields[0].target',
        severity: 'warning',
        message: '"seats" is not a HubSpot contact field yet: created at the first push',
      },
      {
        path: 'mappings.contact.fields[1].target',
        severity: 'error',
        message: expect.stringMatching(
          /^"plan" is not a HubSpot contact field.*; fields: .*; create it first$/,
        ),
      },
    ]);
  });

  it('does not check pull-only fields against the push catalog', () => {
    expect(check({ source: 'x', target: 'not_there', direction: 'pull' })).toEqual([]);
  });
});
