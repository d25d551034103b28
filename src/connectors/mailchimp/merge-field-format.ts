import type { MergeField } from './responses.js';

/**
 * Puts a mapped CRM value into the shape a merge field of that type accepts
 * (https://mailchimp.com/developer/marketing/docs/merge-fields/#add-merge-data-to-contacts).
 * Pure: a value that cannot fit comes back as a problem sentence for the record's error.
 */
export type Formatted = { ok: true; value: unknown } | { ok: false; problem: string };

const TEXT_MAX = 255;
const ADDRESS_REQUIRED = ['addr1', 'city', 'state', 'zip'] as const;
const ADDRESS_KEYS = ['addr1', 'addr2', 'city', 'state', 'zip', 'country'] as const;

const ok = (value: unknown): Formatted => ({ ok: true, value });
const problem = (text: string): Formatted => ({ ok: false, problem: text });
const show = (value: unknown) => JSON.stringify(value)?.slice(0, 80) ?? String(value);

export function formatMergeValue(field: MergeField, value: unknown): Formatted {
  // Mailchimp clears a merge field that is sent empty. A CRM field that is null or blank asks for
  // that whatever the field's type: '' is no number, date or choice, and failing the member for it
  // would hold back its other fields, tags and activities.
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === ''))
    return ok('');
  switch (field.type) {
    case 'number':
      return formatNumber(value);
    case 'date':
      return formatDate(value, field.options.date_format ?? 'MM/DD/YYYY', 'a date');
    case 'birthday':
      return formatDate(value, field.options.date_format ?? 'MM/DD', 'a birthday');
    case 'phone':
      return formatPhone(value, field.options.phone_format);
    case 'address':
      return formatAddress(value);
    case 'url':
    case 'imageurl':
      return formatUrl(value);
    case 'radio':
    case 'dropdown':
      return formatChoice(value, field.options.choices ?? []);
    case 'zip':
    case 'text':
      return formatText(value);
  }
}

function formatText(value: unknown): Formatted {
  if (typeof value === 'object') return problem(`expected text, got ${show(value)}`);
  const text = String(value);
  if (text.length > TEXT_MAX)
    return problem(`text is ${text.length} characters, Mailchimp keeps at most ${TEXT_MAX}`);
  return ok(text);
}

function formatNumber(value: unknown): Formatted {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(n) ? ok(n) : problem(`expected a number, got ${show(value)}`);
}

interface DateParts {
  year: number;
  month: number;
  day: number;
}

/** A calendar date from an ISO date (taken as written), an ISO date-time or epoch ms (in UTC). */
export function dateParts(value: unknown): DateParts | null {
  if (typeof value === 'string') {
    const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
    if (plain) {
      const [year, month, day] = [Number(plain[1]), Number(plain[2]), Number(plain[3])];
      const check = new Date(Date.UTC(year, month - 1, day));
      return check.getUTCMonth() === month - 1 && check.getUTCDate() === day ? { year, month, day } : null;
    }
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value.trim())) return null;
  }
  const at =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'number' || typeof value === 'string'
        ? new Date(value).getTime()
        : Number.NaN;
  if (Number.isNaN(at)) return null;
  const d = new Date(at);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function formatDate(value: unknown, format: string, what: string): Formatted {
  const parts = dateParts(value);
  if (!parts) return problem(`expected ${what} (YYYY-MM-DD or an ISO date-time), got ${show(value)}`);
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = format
    .toUpperCase()
    .replace('YYYY', String(parts.year))
    .replace('MM', pad(parts.month))
    .replace('DD', pad(parts.day));
  return ok(text);
}

function formatPhone(value: unknown, phoneFormat: string | undefined): Formatted {
  if (typeof value !== 'string' && typeof value !== 'number')
    return problem(`expected a phone number, got ${show(value)}`);
  const text = String(value).trim();
  if (phoneFormat?.toUpperCase() !== 'US') return ok(text);
  let digits = text.replace(/\D/g, '');
  if (digits.length === 11 && digits.startsWith('1')) digits = digits.slice(1);
  if (digits.length !== 10) return problem(`expected a US phone number (10 digits), got ${show(value)}`);
  return ok(`${digits.slice(0, 3)}-${digits.slice(3, 6)}-${digits.slice(6)}`);
}

function formatAddress(value: unknown): Formatted {
  if (typeof value !== 'object' || Array.isArray(value)) {
    return problem(`expected an address object { addr1, city, state, zip, country? }, got ${show(value)}`);
  }
  const source = value as Record<string, unknown>;
  // A zip often arrives as a number (10001); any non-blank text or number will do.
  const present = (v: unknown) => (typeof v === 'string' && v.trim() !== '') || typeof v === 'number';
  const missing = ADDRESS_REQUIRED.filter((k) => !present(source[k]));
  if (missing.length > 0) return problem(`address lacks ${missing.join(', ')}`);
  const address: Record<string, string> = {};
  for (const key of ADDRESS_KEYS) {
    if (source[key] !== undefined && source[key] !== null) address[key] = String(source[key]);
  }
  return ok(address);
}

function formatUrl(value: unknown): Formatted {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value) || !URL.canParse(value)) {
    return problem(`expected an http(s) URL, got ${show(value)}`);
  }
  return ok(value);
}

function formatChoice(value: unknown, choices: readonly string[]): Formatted {
  const text = String(value);
  const match =
    choices.find((c) => c === text) ?? choices.find((c) => c.toLowerCase() === text.toLowerCase());
  if (match !== undefined) return ok(match);
  return problem(
    `${show(value)} is not one of the field's choices (${choices.map((c) => JSON.stringify(c)).join(', ')})`,
  );
}
