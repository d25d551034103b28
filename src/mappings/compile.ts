import { type CompiledField, compileField } from './compile-field.js';
import { child, fromZodIssues, item, MappingCompileError, type MappingIssue } from './issues.js';
import { parsePath } from './path.js';
import { EntityMapping, type EntityMappingInput, FieldMapping } from './schema.js';
import type { TransformRecord } from './transforms/define.js';

/**
 * An entity mapping (CONTRACT §2), compiled once and applied to every record, both ways.
 * Applying never throws on record data: a value that cannot be converted leaves its field out
 * and becomes an issue naming the field and the value.
 */

export interface PushResult {
  /** Provider field → value; fields whose value is missing are absent (or null with sendNull). */
  payload: Record<string, unknown>;
  issues: MappingIssue[];
}

export interface PullResult {
  /** CRM source path as written in the mapping (`properties.mrr`) → value. */
  values: Record<string, unknown>;
  issues: MappingIssue[];
}

export interface CompiledEntityMapping {
  /** The CRM field that finds a provider record when there is no link yet. */
  readonly match: string | undefined;
  /** The provider field the match field is pushed to (where to search), if a field maps it. */
  readonly matchTarget: string | undefined;
  /** Provider fields a push writes, for checking against the provider's field catalog. */
  readonly targets: readonly string[];
  /** Provider fields a pull reads. */
  readonly pullTargets: readonly string[];
  /** CRM paths a pull writes, as written in the mapping. */
  readonly pullSources: readonly string[];
  /** Compiled fine, but worth an admin's look (see `MappingIssue.severity`). */
  readonly warnings: readonly MappingIssue[];
  /** CRM snapshot → provider payload. */
  push(snapshot: TransformRecord): PushResult;
  /** Provider record (keyed by target) → CRM values (keyed by source path). */
  pull(providerRecord: TransformRecord): PullResult;
}

/**
 * Compiles a mapping and reports every problem instead of throwing. `where` prefixes issue
 * paths (`mappings.contact` gives `mappings.contact.fields[3].transform[0]`).
 */
export function checkEntityMapping(
  input: EntityMappingInput,
  where = '',
): { compiled: CompiledEntityMapping | undefined; issues: MappingIssue[] } {
  const fieldsWhere = child(where, 'fields');
  const parsed = EntityMapping.safeParse(input);
  if (!parsed.success) {
    const issues = fromZodIssues(parsed.error.issues, where);
    // Still check the well-formed fields, so that one shape error does not hide the next typo.
    const raw: unknown = (input as { fields?: unknown } | null)?.fields;
    if (Array.isArray(raw)) {
      raw.forEach((field, index) => {
        const one = FieldMapping.safeParse(field);
        if (one.success) compileField(one.data, item(fieldsWhere, index), issues);
      });
    }
    return { compiled: undefined, issues };
  }
  const mapping = parsed.data;
  const issues: MappingIssue[] = [];

  const fields: CompiledField[] = [];
  const writers = new Map<string, number>();
  const pullWriters = new Map<string, number>();
  mapping.fields.forEach((field, index) => {
    const at = item(fieldsWhere, index);
    const compiled = compileField(field, at, issues);
    if (field.direction !== 'pull') {
      const first = writers.get(field.target);
      if (first === undefined) writers.set(field.target, index);
      else {
        issues.push({
          path: child(at, 'target'),
          severity: 'error',
          message: `"${field.target}" is already written by ${item(fieldsWhere, first)}; a provider field takes one value`,
        });
      }
    }
    if (compiled?.pull && compiled.source) {
      const first = pullWriters.get(compiled.source.canonical);
      if (first === undefined) pullWriters.set(compiled.source.canonical, index);
      else {
        issues.push({
          path: child(at, 'source'),
          severity: 'error',
          message: `${field.source} is already pulled into by ${item(fieldsWhere, first)}; a CRM field takes one value`,
        });
      }
    }
    if (compiled) fields.push(compiled);
  });

  let matchTarget: string | undefined;
  if (mapping.match !== undefined) {
    const match = parsePath(mapping.match);
    if ('error' in match) {
      issues.push({
        path: child(where, 'match'),
        severity: 'error',
        message: `invalid path "${mapping.match}": ${match.error}`,
      });
    } else {
      matchTarget = fields.find((f) => f.push && f.source?.canonical === match.canonical)?.target;
      if (matchTarget === undefined) {
        issues.push({
          path: child(where, 'match'),
          severity: 'warning',
          message: `no pushed field has source "${mapping.match}", so the provider field to search by is unknown`,
        });
      }
    }
  }

  if (issues.some((i) => i.severity === 'error')) return { compiled: undefined, issues };
  return { compiled: build(mapping, fields, matchTarget, issues), issues };
}

function build(
  mapping: EntityMapping,
  fields: readonly CompiledField[],
  matchTarget: string | undefined,
  warnings: readonly MappingIssue[],
): CompiledEntityMapping {
  const pushers = fields.flatMap((f) => (f.push ? [f.push] : []));
  const pullers = fields.flatMap((f) => (f.pull ? [f.pull] : []));
  return {
    match: mapping.match,
    matchTarget,
    targets: fields.filter((f) => f.push).map((f) => f.target),
    pullTargets: [...new Set(fields.filter((f) => f.pull).map((f) => f.target))],
    pullSources: fields.filter((f) => f.pull).map((f) => f.source!.text),
    warnings,
    push(snapshot) {
      const payload: Record<string, unknown> = {};
      const issues: MappingIssue[] = [];
      for (const push of pushers) push(snapshot, payload, issues);
      return { payload, issues };
    },
    pull(providerRecord) {
      const values: Record<string, unknown> = {};
      const issues: MappingIssue[] = [];
      for (const pull of pullers) pull(providerRecord, values, issues);
      return { values, issues };
    },
  };
}

/**
 * Compiles an entity mapping once, to apply it to many records; throws `MappingCompileError`
 * carrying every issue when it cannot work.
 * @example
 * const contact = compileEntityMapping({ fields: [{ source: 'email', target: 'email' }] }, 'mappings.contact');
 * contact.push({ email: 'ada@example.com' }).payload; // { email: 'ada@example.com' }
 */
export function compileEntityMapping(mapping: EntityMappingInput, where = ''): CompiledEntityMapping {
  const { compiled, issues } = checkEntityMapping(mapping, where);
  if (!compiled) throw new MappingCompileError(issues.filter((i) => i.severity === 'error'));
  return compiled;
}
