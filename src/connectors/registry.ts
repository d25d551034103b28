import { hubspot } from './hubspot/index.js';
import { mailchimpConnector } from './mailchimp/index.js';
import { noopConnector } from './noop/index.js';
import type { ConnectorDefinition, Provider } from './types.js';
import { webhookConnector } from './webhook/index.js';

/**
 * Every connector crm-sync ships. A new provider is one folder under src/connectors and one
 * line here.
 */
export const connectors: Partial<Record<Provider, ConnectorDefinition>> = {
  WEBHOOK: webhookConnector,
  HUBSPOT: hubspot,
  MAILCHIMP: mailchimpConnector,
  NOOP: noopConnector,
};

export function getConnector(provider: Provider): ConnectorDefinition {
  const connector = connectors[provider];
  if (!connector) {
    const known = Object.keys(connectors).join(', ') || 'none';
    throw new Error(`no connector for provider ${provider} (available: ${known})`);
  }
  return connector;
}
