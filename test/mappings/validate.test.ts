import { describe, expect, it } from 'vitest';
import { validateMappings } from '../../src/mappings/validate.js';

describe('validateMappings', () => {
  it('finds nothing wrong with a sound mapping', () => {
    expect(
      validateMappings({
        contact: {
          match: 'email',
          fields: [{ source: 'email', target: 'email', direction: 'both', transform: ['email'] }],
        },
        company: { fields: [{ source: 'domain', target: 'domain' }] },
        activity: {
          fields: [{ source: 'content', target: 'hs_note_body', transform: [{ truncate: 65536 }] }],
        },
        lists: [{ crmListId: 12, target: 'Active Customers' }],
      }),
    ).toEqual([]);
  });

  it('reports problems in every entity with paths relative to the mappings object', () => {
    const issues = validateMappings({
      contact: { fields: [{ source: 'email', target: 'email', transform: ['lowrcase'] }] },
      company: { fields: [{ source: 'size', target: 'size', transform: [{ round: -1 }] }] },
    });
    expect(issues.map((i) => [i.path, i.severity])).toEqual([
      ['contact.fields[0].transform[0]', 'error'],
      ['company.fields[0].transform[0]', 'error'],
    ]);
    expect(issues[1]!.message).toBe(
      'transform "round" needs a number of decimal places from 0 to 15, e.g. { round: 2 }, got -1',
    );
  });

  it('reports shape errors outside the entities, and still checks the entities', () => {
    const issues = validateMappings({
      deals: {},
      contact: { fields: [{ source: 'a', target: 'a', transform: ['lowrcase'] }] },
    } as never);
    expect(issues.map((i) => i.path)).toEqual(['', 'contact.fields[0].transform[0]']);
    expect(issues[0]!.message).toMatch(/deals/);
  });

  it('reports a CRM list mapped twice, whatever the id type', () => {
    const issues = validateMappings({
      lists: [
        { crmListId: 12, target: 'A' },
        { crmListId: '12', target: 'B' },
      ],
    });
    expect(issues).toEqual([
      { path: 'lists[1].crmListId', severity: 'error', message: 'CRM list 12 is already mapped by lists[0]' },
    ]);
  });

  it('includes warnings, marked as such', () => {
    const issues = validateMappings({
      contact: {
        fields: [{ source: 'stage', target: 'stage', direction: 'both', map: { A: 'x', B: 'x' } }],
      },
    });
    expect(issues).toEqual([
      {
        path: 'contact.fields[0].map',
        severity: 'warning',
        message: '"A" and "B" both map to "x"; a pull turns "x" into "A" (the first)',
      },
    ]);
  });
});
