import { describe, expect, it } from 'vitest';
import { explainMissingMergeField } from '../field-descriptors.js';

const off = { createMissingMergeFields: false };
const on = { createMissingMergeFields: true };

describe('a mapping target the audience lacks', () => {
  it.each([
    ['LIFECYCLE', off, true, 'left out of every push until the audience has it'],
    ['COMPANY', off, true, 'left out of every push until the audience has it'],
    ['LIFECYCLE', on, true, 'the first push that sends it creates it'],
    ['SEATS', on, true, 'the first push that sends it creates it'],
    ['SEATS', off, false, 'set settings.createMissingMergeFields: true to have the first push create it'],
    ['seats', on, false, 'a merge tag is 1–10 capital letters'],
    ['LIFECYCLE_STAGE', on, false, 'settings.createMissingMergeFields cannot create it'],
  ] as const)('%s with %o: accepted %s, saying “%s”', (target, settings, accepted, note) => {
    expect(explainMissingMergeField(target, settings)).toEqual({
      accepted,
      note: expect.stringContaining(note),
    });
  });
});
