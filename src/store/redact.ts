/**
 * Blanks secrets out of anything about to be stored or shown: dead letters keep the raw event
 * and the provider's error for years, and an operator may paste either into a ticket.
 *
 * Keys are matched case-insensitively with `_` and `-` ignored, so `api_key`, `apiKey` and
 * `X-Api-Key` are one rule. Inside strings, `Bearer …`/`Basic …` credentials and the password of
 * a URL (`https://user:secret@host`) are blanked too, because provider errors echo headers and
 * connection strings as plain text.
 *
 * @example
 * redact({ headers: { Authorization: 'Bearer abc' }, email: 'a@b.c' })
 * // → { headers: { Authorization: '[redacted]' }, email: 'a@b.c' }
 */
export const REDACTED = '[redacted]';

const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'credentials',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'xapikey',
  'hapikey',
  'secret',
  'clientsecret',
  'signingsecret',
  'webhooksecret',
  'password',
  'passwd',
  'writekey',
  'privatekey',
  'encryptionkey',
  'adminkey',
  'crmsyncadmintoken',
  'crmsyncencryptionkey',
  'crmapikey',
]);

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

// `Bearer eyJ…`, `Basic dXNlcjpwYXNz`: the scheme stays so the reader still sees what was sent.
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// The password part of `scheme://user:password@host`.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi;

export function redactString(text: string): string {
  return text.replace(AUTH_SCHEME, `$1 ${REDACTED}`).replace(URL_PASSWORD, `$1${REDACTED}@`);
}

/** A deep copy of `value` with secrets blanked. Never mutates its input; survives cycles. */
export function redact<T>(value: T): T {
  return redactValue(value, new WeakSet()) as T;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Error) return { name: value.name, message: redactString(value.message) };
  // Only the current path counts: an object referenced twice side by side is not a cycle.
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSecretKey(key) && item !== null && item !== undefined ? REDACTED : redactValue(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
