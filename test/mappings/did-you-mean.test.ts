import { describe, expect, it } from 'vitest';
import { suggest } from '../../src/mappings/did-you-mean.js';

const names = ['trim', 'lowercase', 'uppercase', 'number', 'nullIfEmpty', 'datetime', 'date'];

describe('suggest', () => {
  it.each([
    ['lowrcase', 'lowercase'],
    ['lowercsae', 'lowercase'],
    ['Uppercase', 'uppercase'],
    ['nullifempty', 'nullIfEmpty'],
    ['numbr', 'number'],
    ['dat', 'date'],
    ['datetim', 'datetime'],
  ])('suggests a name for the typo %s', (typo, expected) => {
    expect(suggest(typo, names)).toBe(expected);
  });

  it.each(['capitalize', 'x', 'somethingelse'])('suggests nothing for %s, which is no near miss', (word) => {
    expect(suggest(word, names)).toBeUndefined();
  });
});
