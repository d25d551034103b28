export * from './compile.js';
export { MappingCompileError, type MappingIssue } from './issues.js';
export { type CompiledPath, compilePath, getPath, PathSyntaxError, parsePath, readPath } from './path.js';
export * from './schema.js';
export type { TransformFn, TransformRecord } from './transforms/define.js';
export { listTransforms, TRANSFORM_NAMES } from './transforms/registry.js';
export * from './validate.js';
