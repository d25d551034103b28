/**
 * crm-sync as a library: what the CRM backend imports to publish events, and the schemas and
 * types of everything it sends. The worker itself runs from the `crm-sync` command.
 *
 * @example
 * import { Queue } from 'bullmq';
 * import { publishCrmEvent, CRM_EVENTS_QUEUE } from 'crm-sync';
 * const queue = new Queue(CRM_EVENTS_QUEUE, { connection, prefix: 'crm-sync' });
 * await publishCrmEvent(queue, event);
 */

export * from './connectors/errors.js';
export type {
  ConnectorClient,
  ConnectorContext,
  ConnectorDefinition,
  Provider,
  PushRecord,
  PushResult,
} from './connectors/types.js';
export { defineConnector } from './connectors/types.js';
export * from './events/index.js';
export { Filter } from './filters/schema.js';
export { IntegrationConfig, type IntegrationConfigInput } from './integrations/schema.js';
export { Mappings, type MappingsInput } from './mappings/schema.js';
