import { Counter } from 'prom-client';
import { metricsRegistry } from './registry.js';

/**
 * What integrations spend of their providers' budgets: every request the shared limiter let
 * start, and the 429s among the answers. A rising 429 count means the configured budget is more
 * than the account allows (or another client spends the same account).
 */
export const providerRequestsTotal = new Counter({
  name: 'crm_sync_provider_requests_total',
  help: 'Provider requests started through the shared rate limiter, by integration key and provider',
  labelNames: ['integration', 'provider'] as const,
  registers: [metricsRegistry],
});

export const providerRateLimitedTotal = new Counter({
  name: 'crm_sync_provider_rate_limited_total',
  help: 'Provider answers that said the rate limit was hit (429), by integration key, provider and scope (window or daily)',
  labelNames: ['integration', 'provider', 'scope'] as const,
  registers: [metricsRegistry],
});
