export type { SandboxMember, SandboxStatus } from './audience.js';
export type { BatchOperationResult } from './batch-archive.js';
export type { EmailFault, FaultRule } from './faults.js';
export { createMailchimpSandbox, DEFAULT_MERGE_FIELDS, type MailchimpSandbox } from './server.js';
export type { Limits, RequestLogEntry } from './traffic.js';
