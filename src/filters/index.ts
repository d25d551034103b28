export type { FilterIssue, RecordPredicate } from './check-filter.js';
export { compileFilter, evaluateFilter, FilterCompileError, validateFilter } from './evaluate.js';
export * from './schema.js';
