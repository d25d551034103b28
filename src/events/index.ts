export * from './contact-of.js';
export * from './envelope.js';
export * from './event-types.js';
export * from './job-id.js';
export * from './parse-event.js';
export * from './publish.js';
export * from './snapshots.js';
