/**
 * Replaces every occurrence of the given secrets in a value (deeply), so a provider answer can be
 * kept on an error, a dead letter or a log line without carrying the API key.
 */
export function redactSecrets<T>(value: T, secrets: readonly string[]): T {
  const live = secrets.filter((s) => s.length >= 4);
  if (live.length === 0) return value;
  const scrub = (v: unknown): unknown => {
    if (typeof v === 'string') return live.reduce((text, secret) => text.split(secret).join('[redacted]'), v);
    if (Array.isArray(v)) return v.map(scrub);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, scrub(inner)]));
    }
    return v;
  };
  return scrub(value) as T;
}

/** What must never leave in an error or a log line: the API key, and its Basic-auth form. */
export function apiKeySecrets(apiKey: string): string[] {
  return [apiKey, Buffer.from(`user:${apiKey}`).toString('base64')];
}
