/**
 * HubSpot takes every property value as a string (`properties: { [name]: string }` in its
 * OpenAPI documents): numbers and booleans as text, multi-selects joined with ";", dates as ISO
 * 8601, and "" to clear a value.
 */
export function toHubSpotValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toHubSpotValue(v) ?? '').join(';');
  return JSON.stringify(value);
}

/** `$` keys are instructions to the connector (`$listTarget`, `$properties`), never properties. */
export function toHubSpotProperties(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (name.startsWith('$')) continue;
    const text = toHubSpotValue(value);
    if (text !== undefined) out[name] = text;
  }
  return out;
}

/** HubSpot compares emails case-insensitively and stores them lower-cased. */
export function normalizeEmail(email: unknown): string | null {
  if (typeof email !== 'string') return null;
  const trimmed = email.trim().toLowerCase();
  return trimmed === '' ? null : trimmed;
}

/** `https://www.Example.com/about` → `example.com`: HubSpot's company domain is a bare host name. */
export function normalizeDomain(domain: unknown): string | null {
  if (typeof domain !== 'string') return null;
  const host = domain
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/^www\./, '')
    .replace(/[/?#].*$/, '');
  return host === '' ? null : host;
}
