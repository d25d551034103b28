import { child, type MappingIssue } from './issues.js';
import { type CompiledPath, parsePath, readPath } from './path.js';
import type { FieldMapping } from './schema.js';
import { compileTemplate } from './template.js';
import type { TransformRecord } from './transforms/define.js';
import { Rejection } from './transforms/define.js';
import { compilePipeline, PipelineFailure, runPipeline } from './transforms/pipeline.js';
import { compileValueMap } from './value-map.js';

/**
 * One field mapping, compiled into a push step and (for source fields that are pulled) a pull
 * step. Steps write into the caller's payload and issue list instead of returning objects:
 * the pipeline pushes thousands of records a second, and per-field allocations add up.
 *
 * Push: read the source (absent or null = missing), or the constant, or the template → a missing
 * value takes the field's `default`, a present one goes through `map` → the transforms → a value
 * still missing is left out, or sent as null with `sendNull`.
 * Pull: the provider's value (absent or null = missing) → each transform's pull form, last first
 * → the inverted `map` → written under the source path.
 */

export interface CompiledField {
  readonly target: string;
  readonly source: CompiledPath | undefined;
  readonly push:
    | ((snapshot: TransformRecord, payload: Record<string, unknown>, issues: MappingIssue[]) => void)
    | undefined;
  readonly pull:
    | ((record: TransformRecord, values: Record<string, unknown>, issues: MappingIssue[]) => void)
    | undefined;
}

export function compileField(
  field: FieldMapping,
  where: string,
  issues: MappingIssue[],
): CompiledField | undefined {
  const before = issues.length;
  const target = field.target;
  let source: CompiledPath | undefined;
  let read: (snapshot: TransformRecord) => unknown;
  let origin: string;

  if (field.source !== undefined) {
    const parsed = parsePath(field.source);
    if ('error' in parsed) {
      issues.push({
        path: child(where, 'source'),
        severity: 'error',
        message: `invalid path "${field.source}": ${parsed.error}`,
      });
      read = () => undefined;
    } else {
      const path = parsed;
      source = path;
      read = (snapshot) => {
        const v = readPath(snapshot, path);
        return v === null ? undefined : v;
      };
    }
    origin = `from ${field.source}`;
  } else if (field.template !== undefined) {
    const template = compileTemplate(field.template, child(where, 'template'), issues);
    read = (snapshot) => template.render(snapshot);
    origin = 'from its template';
  } else {
    const constant = field.value;
    read = () => constant;
    origin = 'constant';
  }

  const pushOnly = field.source === undefined;
  if (pushOnly && field.direction !== 'push') {
    const kind = field.template !== undefined ? 'a template' : 'a constant (value)';
    issues.push({
      path: child(where, 'direction'),
      severity: 'error',
      message: `${kind} field is push only; there is no CRM field to pull "${target}" into (use direction: push)`,
    });
  }
  const pushes = field.direction !== 'pull';
  const pulls = field.direction !== 'push' && !pushOnly;

  const hasDefault = field.default !== undefined;
  const defaultValue = field.default;
  const mapWhere = child(where, 'map');
  const valueMap = field.map
    ? compileValueMap(field.map, { hasDefault, defaultValue, pulled: pulls, where: mapWhere }, issues)
    : undefined;
  const pipeline = compilePipeline(field.transform, child(where, 'transform'), issues);
  if (issues.slice(before).some((i) => i.severity === 'error')) return undefined;

  const sendNull = field.sendNull;
  const pushLabel = `field "${target}" (${origin}) left out`;
  const pullLabel = `pull of "${target}" into ${field.source ?? ''} left out`;
  const fail = (issues: MappingIssue[], label: string, path: string, reason: string) =>
    issues.push({ path, severity: 'error', message: `${label}: ${reason}` });

  const push = pushes
    ? (snapshot: TransformRecord, payload: Record<string, unknown>, issues: MappingIssue[]) => {
        let value = read(snapshot);
        if (value === undefined) {
          if (hasDefault) value = defaultValue;
        } else if (valueMap) {
          value = valueMap.forward(value);
          if (value instanceof Rejection) return fail(issues, pushLabel, mapWhere, value.reason);
        }
        if (pipeline.push.length > 0) {
          value = runPipeline(pipeline.push, value, snapshot);
          if (value instanceof PipelineFailure) {
            return fail(issues, pushLabel, value.at, `${value.name}: ${value.reason}`);
          }
        }
        if (value !== undefined) payload[target] = value;
        else if (sendNull) payload[target] = null;
      }
    : undefined;

  const sourceKey = field.source ?? '';
  const pull = pulls
    ? (record: TransformRecord, values: Record<string, unknown>, issues: MappingIssue[]) => {
        let value = Object.hasOwn(record, target) ? record[target] : undefined;
        if (value === null) value = undefined;
        if (value !== undefined && pipeline.pull.length > 0) {
          value = runPipeline(pipeline.pull, value, record);
          if (value instanceof PipelineFailure) {
            return fail(issues, pullLabel, value.at, `${value.name}: ${value.reason}`);
          }
        }
        if (value !== undefined && value !== null && valueMap) {
          value = valueMap.inverse(value);
          if (value instanceof Rejection) return fail(issues, pullLabel, mapWhere, value.reason);
        }
        if (value !== undefined) values[sourceKey] = value;
        else if (sendNull) values[sourceKey] = null;
      }
    : undefined;

  return { target, source, push, pull };
}
