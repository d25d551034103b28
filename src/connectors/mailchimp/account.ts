import { createHash } from 'node:crypto';
import type { MailchimpCredentials, MailchimpSettings } from './settings.js';

/** The data center an API key belongs to: the part after its last dash (`…-us6` → `us6`). */
export function dataCenterOf(apiKey: string): string {
  const dc = apiKey.slice(apiKey.lastIndexOf('-') + 1);
  if (!/^[a-z]{2,4}\d{1,3}$/.test(dc)) throw new Error('the Mailchimp API key has no data-center suffix');
  return dc;
}

/**
 * The rate-budget key of a Mailchimp account, from its `account_id`: the same whether an admin
 * set `settings.accountId` or the API root named it, so both kinds of integration share it.
 */
export function accountKeyForId(accountId: string): string {
  return `account-${accountId}`;
}

/**
 * What names a key's budget until the account is known (or when it cannot be asked): the data
 * center and a hash prefix of the key, which never reveal it. A key belongs to one user of an
 * account, so two users' keys get two budgets this way: see account-lookup.ts.
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
