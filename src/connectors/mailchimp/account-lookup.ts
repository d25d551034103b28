import { accountKeyForId, resolveBaseUrl } from './account.js';
import { createMailchimpApi } from './mailchimp-api.js';
import { apiKeySecrets } from './redact-secrets.js';
import { createSdk } from './sdk-client.js';
import type { MailchimpCredentials, MailchimpSettings } from './settings.js';

/** GET / is tiny: a root that takes longer is down, and the runtime build waits on it. */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Mailchimp's limits (10 simultaneous connections, and the CRM's 8 requests/s) are per account,
 * but an API key belongs to one user of an account, and each user can make several: two
 * integrations with two keys of one account must still share one budget, or together they send
 * twice what the account allows and Mailchimp answers 429s. The API root names the account the
 * key belongs to (`account_id`), so that is the budget's key.
 *
 * Null when `settings.accountId` already names it. The engine runs the lookup once per key for
 * every process (it caches the answer in Redis) and decides what a failure means from its kind.
 *
 * The request goes through an `ApiClient` of its own (never the SDK's process-wide singleton),
 * translated and redacted like every other call (mailchimp-api.ts), but outside the rate
 * limiter: which account's budget it should count against is what it finds out. It is one
 * request per key per cache lifetime.
 *
 * @example
 * const lookup = mailchimpAccountLookup(settings, credentials);
 * const accountKey = lookup ? await lookup() : accountKeyForId(settings.accountId!);
 */
export function mailchimpAccountLookup(
  settings: MailchimpSettings,
  credentials: MailchimpCredentials,
  env: NodeJS.ProcessEnv = process.env,
): (() => Promise<string>) | null {
  if (settings.accountId) return null;
  return async () => {
    const sdk = createSdk({
      apiKey: credentials.apiKey,
      baseUrl: resolveBaseUrl(settings, credentials, env),
      timeoutMs: Math.min(settings.requestTimeoutMs, LOOKUP_TIMEOUT_MS),
    });
    const api = createMailchimpApi({
      sdk,
      listId: settings.listId,
      request: (call) => call(),
      secrets: apiKeySecrets(credentials.apiKey),
    });
    try {
      return accountKeyForId(await api.getAccountId());
    } finally {
      sdk.close();
    }
  };
}
