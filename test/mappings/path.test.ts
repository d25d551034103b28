import { describe, expect, it } from 'vitest';
import { compilePath, getPath, PathSyntaxError, parsePath } from '../../src/mappings/path.js';

const contact = {
  email: 'ada@example.com',
  properties: { mrr: 12, 'Customer Tier': 'gold', '2024': 'x', nothing: null },
  companies: [{ name: 'Acme' }, { name: 'Globex' }],
};

describe('getPath', () => {
  it.each([
    ['email', 'ada@example.com'],
    ['properties.mrr', 12],
    ['companies[0].name', 'Acme'],
    ['companies.1.name', 'Globex'],
    ['properties["Customer Tier"]', 'gold'],
    ["properties['Customer Tier']", 'gold'],
    ['properties.2024', 'x'],
    ['properties.nothing', null],
    ['properties.absent', undefined],
    ['companies[5].name', undefined],
    ['companies.name', undefined],
    ['email.length', undefined],
    ['constructor', undefined],
    ['properties.__proto__', undefined],
  ])('reads %s', (path, expected) => {
    expect(getPath(contact, path)).toEqual(expected);
  });

  it('reads nothing from null or a scalar record', () => {
    expect(getPath(null, 'a.b')).toBeUndefined();
    expect(getPath('text', 'length')).toBeUndefined();
  });

  it('throws a PathSyntaxError naming the path on a malformed one', () => {
    expect(() => getPath(contact, 'a..b')).toThrow(PathSyntaxError);
    expect(() => getPath(contact, 'a..b')).toThrow(
      'invalid path "a..b": empty segment before "." at position 2',
    );
  });
});

describe('parsePath', () => {
  it.each([
    ['', 'the path is empty'],
    ['.a', 'empty segment before "." at position 0'],
    ['a.', 'the path ends with "."'],
    ['a[0', '"[" at position 1 is never closed'],
    ['a[x]', '"[x]" at position 1 must be an index like [0] or a quoted key like ["a b"]'],
    ['a]', 'unexpected "]" at position 1'],
    ['a[0]b', 'expected "." or "[" at position 4'],
    ['a.[0]', '"." followed by "[" at position 2'],
    ['a. b', 'segment " b" starts or ends with a space'],
    ['a[""]', 'empty key "[""]" at position 1'],
  ])('rejects %j: %s', (path, message) => {
    expect(parsePath(path)).toEqual({ error: message });
  });

  it('gives both index spellings one canonical form', () => {
    expect(compilePath('companies.0.name').canonical).toBe('companies[0].name');
    expect(compilePath('companies[0].name').canonical).toBe('companies[0].name');
    expect(compilePath("properties['Customer Tier']").canonical).toBe('properties["Customer Tier"]');
  });
});
