export { type FailureRule, Faults, type InputRule } from './faults.js';
export { HubSpotSandbox, type HubSpotSandboxOptions } from './hubspot-sandbox.js';
export { type LoggedRequest, RequestLog } from './request-log.js';
export type { SandboxStore, StoredObject } from './sandbox-store.js';
