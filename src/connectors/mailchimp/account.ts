import { createHash } from 'node:crypto';
import type { MailchimpCredentials, MailchimpSettings } from './settings.js';

/** The data center an API key belongs to: the part after its last dash (`…-us6` → `us6`). */
export function dataCenterOf(apiKey: string): string {
  const dc = apiKey.slice(apiKey.lastIndexOf('-') + 1);
  if (!/^[a-z]{2,4}\d{1,3}$/.test(dc)) throw new Error('the Mailchimp API key has no data-center suffix');
  return dc;
}

/**
 * Integrations of one Mailchimp account share its rate budget: the data center and a hash
 * prefix of the key identify it without revealing the key.
 */
export function accountKeyOf(credentials: MailchimpCredentials): string {
  const digest = createHash('sha256').update(credentials.apiKey).digest('hex').slice(0, 16);
  return `${dataCenterOf(credentials.apiKey)}:${digest}`;
}

/**
 * The API root: the integration's own `baseUrl`, else MAILCHIMP_BASE_URL (a simulator for
 * every integration), else the key's data center.
 */
export function resolveBaseUrl(
  settings: Pick<MailchimpSettings, 'baseUrl'>,
  credentials: MailchimpCredentials,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const fromEnv = env.MAILCHIMP_BASE_URL?.trim();
  const base =
    settings.baseUrl ??
    (fromEnv ? fromEnv : `https://${dataCenterOf(credentials.apiKey)}.api.mailchimp.com/3.0`);
  return base.replace(/\/+$/, '');
}
