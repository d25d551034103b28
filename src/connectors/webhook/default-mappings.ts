import type { MappingsInput } from '../../mappings/schema.js';

/**
 * The payload a webhook gets when its integration maps nothing: the snapshot's commonly used
 * fields under their CRM names. The whole event travels in the delivery as well, so receivers
 * that want everything read `event.data`; a mapping is for receivers that want a fixed shape.
 */
export const webhookDefaultMappings = {
  contact: {
    match: 'email',
    fields: [
      { source: 'id', target: 'id' },
      { source: 'externalId', target: 'externalId' },
      { source: 'email', target: 'email' },
      { source: 'name', target: 'name' },
      { source: 'givenName', target: 'givenName' },
      { source: 'familyName', target: 'familyName' },
      { source: 'phone', target: 'phone' },
      { source: 'lifecycleStage', target: 'lifecycleStage' },
      { source: 'status', target: 'status' },
      { source: 'tags', target: 'tags' },
      { source: 'properties', target: 'properties' },
      { source: 'updatedAt', target: 'updatedAt' },
    ],
  },
  company: {
    match: 'domain',
    fields: [
      { source: 'id', target: 'id' },
      { source: 'externalId', target: 'externalId' },
      { source: 'name', target: 'name' },
      { source: 'domain', target: 'domain' },
      { source: 'industry', target: 'industry' },
      { source: 'size', target: 'size' },
      { source: 'plan', target: 'plan' },
      { source: 'website', target: 'website' },
      { source: 'phone', target: 'phone' },
      { source: 'properties', target: 'properties' },
      { source: 'updatedAt', target: 'updatedAt' },
    ],
  },
  activity: {
    fields: [
      { source: 'id', target: 'id' },
      { source: 'contactId', target: 'contactId' },
      { source: 'companyId', target: 'companyId' },
      { source: 'type', target: 'type' },
      { source: 'content', target: 'content' },
      { source: 'module', target: 'module' },
      { source: 'properties', target: 'properties' },
      { source: 'occurredAt', target: 'occurredAt' },
    ],
  },
} satisfies MappingsInput;
