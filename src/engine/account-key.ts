/**
 * Which provider account an integration's requests count against: the key of its shared rate
 * limiter. A connector names it from the settings and credentials (`accountKey`), and, where the
 * credentials do not tell (Mailchimp: one account, several users' API keys), asks the provider
 * (`accountLookup`). See docs/rate-limiting.md, "Account keys".
 *
 * @example
 * const accountKeys = createAccountKeyCache(redis, 'crm-sync', logger);
 * const { accountKey } = await resolveAccountKey({ provider, connector, settings, credentials, cache: accountKeys, logger });
 * const limiter = limiters.forAccount(accountKey, limit);
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { classifyUnknown } from '../connectors/errors.js';
import type { ConnectorDefinition } from '../connectors/types.js';
import type { Logger } from '../logging/logger.js';

/**
 * An answer for a set of credentials does not change (a Mailchimp key belongs to one account for
 * life); the expiry only lets the keys of deleted integrations go.
 */
const CACHE_TTL_SECONDS = 30 * 24 * 3600;
/** A cache that does not answer is skipped: a runtime build must not hang on it. */
const REDIS_TIMEOUT_MS = 2000;
/** After a failed lookup that may pass (network, 5xx, 429): when the runtime is rebuilt to ask again. */
export const TRANSIENT_LOOKUP_RETRY_MS = 60_000;
/**
 * After a lookup the credentials failed (401, 403, a wrong data center): the pushes fail the same
 * way and pause the integration, and a pause or a fixed key rebuilds the runtime anyway. This
 * only bounds how long a runtime keeps a fallback key if the provider let the lookup alone fail.
 */
export const REJECTED_LOOKUP_RETRY_MS = 10 * 60_000;

/** Lookup answers, shared by every process through Redis and memoised in this one. */
export interface AccountKeyCache {
  /** The answer cached for `key`, else `lookup`'s (run once for concurrent callers), then cached. */
  remember(key: string, lookup: () => Promise<string>): Promise<string>;
}

export function createAccountKeyCache(redis: Redis, prefix: string, logger: Logger): AccountKeyCache {
  const known = new Map<string, Promise<string>>();
  const redisKey = (key: string) => `${prefix}:account-key:${key}`;
  return {
    remember(key, lookup) {
      const memo = known.get(key);
      if (memo) return memo;
      const answer = (async () => {
        const cached = await withinTimeout(redis.get(redisKey(key))).catch((error: unknown) => {
          logger.warn({ account: key, err: (error as Error).message }, 'account key cache unreadable');
          return null;
        });
        if (cached) return cached;
        const found = await lookup();
        await withinTimeout(redis.set(redisKey(key), found, 'EX', CACHE_TTL_SECONDS)).catch(
          (error: unknown) =>
            logger.warn({ account: key, err: (error as Error).message }, 'account key cache not written'),
        );
        return found;
      })();
      known.set(key, answer);
      // A failure is not remembered: the next build asks again.
      answer.catch(() => known.delete(key));
      return answer;
    },
  };
}

export interface ResolvedAccountKey {
  accountKey: string;
  /** Set when `accountKey` is a fallback: rebuild the runtime after this time to ask again. */
  retryAt?: number | undefined;
}

/**
 * The integration's account key, `<PROVIDER>:<key>`. A failed lookup never fails the build:
 * a runtime that cannot be built is left out of routing, so its events would be acknowledged
 * without a job, and its queued jobs would wait. The credentials' own key (a digest) stands in,
 * with a warning, until a rebuild asks again (`retryAt`). At worst two keys of one account then
 * spend two budgets for that time, and the provider's 429s pause and retry them.
 * - transient failures (network, 5xx, 429, an answer of unexpected shape) retry within a minute;
 * - rejected credentials (auth) and config errors go on to the pushes, which fail the same way and
 *   pause the integration saying why, as any push with those credentials does.
 */
export async function resolveAccountKey<S, C>(input: {
  provider: string;
  connector: Pick<ConnectorDefinition, 'accountKey' | 'accountLookup'>;
  settings: S;
  credentials: C;
  cache?: AccountKeyCache | undefined;
  /** The provider address the lookup asks (`settings.baseUrl`); absent for the provider itself. */
  baseUrl?: string | null | undefined;
  logger: Logger;
}): Promise<ResolvedAccountKey> {
  const { provider, connector, settings, credentials, cache, logger } = input;
  const own = `${provider}:${connector.accountKey(settings, credentials)}`;
  const lookup = connector.accountLookup?.(settings, credentials);
  if (!lookup) return { accountKey: own };
  const ask = async () => `${provider}:${await lookup()}`;
  try {
    return { accountKey: await (cache ? cache.remember(cacheKeyOf(own, input.baseUrl), ask) : ask()) };
  } catch (error) {
    // The connector's errors are classified and redacted at its edge; only the message is logged.
    const classified = classifyUnknown(error);
    const rejected = classified.kind === 'auth' || classified.kind === 'config';
    const retryInMs = rejected ? REJECTED_LOOKUP_RETRY_MS : TRANSIENT_LOOKUP_RETRY_MS;
    logger.warn(
      { account: own, kind: classified.kind, err: classified.message, retryInMs },
      rejected
        ? 'provider account lookup rejected; the credentials’ own rate budget stands in (pushes will say why)'
        : 'provider account lookup failed; the credentials’ own rate budget stands in until it is asked again',
    );
    // Up to a fifth later, at random: the workers whose lookups failed together (a provider
    // outage, a first deploy) must not all ask again at the same moment.
    return { accountKey: own, retryAt: Date.now() + Math.round(retryInMs * (1 + Math.random() / 5)) };
  }
}

/**
 * The cache names the credentials and where they were asked: the same key sent to a simulator
 * (`settings.baseUrl`, MAILCHIMP_BASE_URL) and to Mailchimp itself gets two answers, not one.
 */
function cacheKeyOf(own: string, baseUrl: string | null | undefined): string {
  if (!baseUrl) return own;
  return `${own}@${createHash('sha256').update(baseUrl).digest('hex').slice(0, 12)}`;
}

function withinTimeout<T>(operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
