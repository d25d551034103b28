import { describe, expect, it } from 'vitest';
import { formatMergeValue } from '../merge-field-format.js';
import { MergeField } from '../responses.js';

const field = (type: string, options: Record<string, unknown> = {}) =>
  MergeField.parse({ tag: 'F', type, options });

describe('formatting a CRM value for a merge field', () => {
  it('writes dates in the field’s own date format', () => {
    expect(formatMergeValue(field('date', { date_format: 'MM/DD/YYYY' }), '2026-03-07')).toEqual({
      ok: true,
      value: '03/07/2026',
    });
    expect(formatMergeValue(field('date', { date_format: 'DD/MM/YYYY' }), '2026-03-07')).toEqual({
      ok: true,
      value: '07/03/2026',
    });
  });

  it('takes a date-time’s calendar day in UTC', () => {
    expect(
      formatMergeValue(field('date', { date_format: 'MM/DD/YYYY' }), '2026-03-07T23:30:00-02:00'),
    ).toEqual({
      ok: true,
      value: '03/08/2026',
    });
  });

  it('writes birthdays as month and day in the field’s order', () => {
    expect(formatMergeValue(field('birthday', { date_format: 'MM/DD' }), '1990-12-24')).toEqual({
      ok: true,
      value: '12/24',
    });
    expect(formatMergeValue(field('birthday', { date_format: 'DD/MM' }), '1990-12-24')).toEqual({
      ok: true,
      value: '24/12',
    });
  });

  it('rejects a date that is not one, saying what it expected', () => {
    const result = formatMergeValue(field('date'), '2026-02-30');
    expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('expected a date') });
  });

  it('turns numeric strings into numbers and refuses words', () => {
    expect(formatMergeValue(field('number'), '42.5')).toEqual({ ok: true, value: 42.5 });
    expect(formatMergeValue(field('number'), 'lots')).toMatchObject({
      ok: false,
      problem: 'expected a number, got "lots"',
    });
  });

  it('formats US phone numbers and leaves international ones as written', () => {
    expect(formatMergeValue(field('phone', { phone_format: 'US' }), '+1 (415) 555-0100')).toEqual({
      ok: true,
      value: '415-555-0100',
    });
    expect(formatMergeValue(field('phone', { phone_format: 'US' }), '555-0100')).toMatchObject({ ok: false });
    expect(formatMergeValue(field('phone', { phone_format: 'International' }), '+44 20 7946 0000')).toEqual({
      ok: true,
      value: '+44 20 7946 0000',
    });
  });

  it('checks dropdown and radio values against the choices, matching case-insensitively', () => {
    const dropdown = field('dropdown', { choices: ['Lead', 'Customer'] });
    expect(formatMergeValue(dropdown, 'CUSTOMER')).toEqual({ ok: true, value: 'Customer' });
    expect(formatMergeValue(dropdown, 'Partner')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('"Lead", "Customer"'),
    });
    expect(formatMergeValue(field('radio', { choices: ['Yes'] }), 'No')).toMatchObject({ ok: false });
  });

  it('requires the address parts Mailchimp requires and names the missing ones', () => {
    const address = field('address');
    expect(
      formatMergeValue(address, {
        addr1: '1 Main St',
        city: 'Springfield',
        state: 'IL',
        zip: '62701',
        extra: 'x',
      }),
    ).toEqual({
      ok: true,
      value: { addr1: '1 Main St', city: 'Springfield', state: 'IL', zip: '62701' },
    });
    expect(formatMergeValue(address, { addr1: '1 Main St' })).toEqual({
      ok: false,
      problem: 'address lacks city, state, zip',
    });
    // A zip kept as a number is still a zip.
    expect(
      formatMergeValue(address, { addr1: '1 Main St', city: 'New York', state: 'NY', zip: 10001 }),
    ).toEqual({ ok: true, value: { addr1: '1 Main St', city: 'New York', state: 'NY', zip: '10001' } });
    expect(formatMergeValue(address, { addr1: ' ', city: 'New York', state: 'NY', zip: 10001 })).toEqual({
      ok: false,
      problem: 'address lacks addr1',
    });
  });

  it('clears a field of any type when the CRM value is null or blank', () => {
    const types = ['number', 'date', 'birthday', 'phone', 'address', 'url', 'dropdown', 'radio', 'text'];
    for (const type of types) {
      const options =
        type === 'phone' ? { phone_format: 'US' } : type === 'dropdown' ? { choices: ['A'] } : {};
      for (const value of [null, undefined, '', '  '])
        expect(formatMergeValue(field(type, options), value), `${type} ← ${JSON.stringify(value)}`).toEqual({
          ok: true,
          value: '',
        });
    }
  });

  it('refuses text longer than Mailchimp keeps', () => {
    expect(formatMergeValue(field('text'), 'x'.repeat(256))).toMatchObject({ ok: false });
  });
});
