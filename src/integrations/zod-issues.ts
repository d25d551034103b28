import type { z } from 'zod';
import { didYouMean } from '../mappings/did-you-mean.js';

/**
 * Turns zod issues into messages an admin can act on: what is allowed, what was found, and the
 * likely intended word. zod's own messages say "Invalid option" and stop there.
 */

export type ConfigPath = (string | number)[];

export interface ConfigIssue {
  /** Inside the integration: `['mappings', 'contact', 'fields', 3]`. */
  path: ConfigPath;
  message: string;
}

export interface IssueOptions {
  /** Where `schema` sits inside the integration (connector settings are checked under `settings`). */
  base?: ConfigPath;
  /**
   * How to show a value found at `path`; returns undefined to show it as is. Used to keep
   * secrets (credentials, interpolated environment values) out of messages.
   */
  describeInput?: (path: ConfigPath, input: unknown) => string | undefined;
}

type ZodIssue = z.core.$ZodIssue;

/** The parts of zod's internal schema definitions this module walks to find allowed keys. */
interface SchemaDef {
  type: string;
  shape?: Record<string, Walkable>;
  element?: Walkable;
  innerType?: Walkable;
  in?: Walkable;
  getter?: () => Walkable;
  options?: Walkable[];
  valueType?: Walkable;
}
interface Walkable {
  _zod: { def: SchemaDef };
}

export function issuesFromZod(issues: readonly ZodIssue[], schema: z.ZodType, options: IssueOptions = {}) {
  const out: ConfigIssue[] = [];
  collect(issues, schema as unknown as Walkable, options.base ?? [], options, out);
  return out;
}

function collect(
  issues: readonly ZodIssue[],
  schema: Walkable | undefined,
  base: ConfigPath,
  options: IssueOptions,
  out: ConfigIssue[],
): void {
  for (const issue of issues) {
    const local = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const path = [...base, ...local];
    const describe = (input: unknown) => options.describeInput?.(path, input) ?? describeValue(input);
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = objectKeys(schemaAt(schema, local));
        for (const key of issue.keys) {
          const hint = didYouMean(key, allowed);
          const rest = hint !== '' || allowed.length === 0 ? hint : `; allowed: ${allowed.join(', ')}`;
          out.push({ path: [...path, key], message: `unknown key "${key}"${rest}` });
        }
        break;
      }
      case 'invalid_value': {
        const values = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
        const expected = values.length === 1 ? `${values[0]}` : `one of ${values.join(' | ')}`;
        if (input === undefined) {
          out.push({ path, message: `required: expected ${expected}` });
          break;
        }
        const hint = typeof input === 'string' ? didYouMean(input, values) : '';
        out.push({ path, message: `expected ${expected}, got ${describe(input)}${hint}` });
        break;
      }
      case 'invalid_type':
        out.push({
          path,
          message:
            input === undefined
              ? `required: expected ${typeName(issue.expected)}`
              : `expected ${typeName(issue.expected)}, got ${describe(input)}`,
        });
        break;
      case 'invalid_format':
        out.push({
          path,
          message:
            issue.format === 'regex' && !/^invalid/i.test(issue.message)
              ? `expected ${issue.message}, got ${describe(input)}`
              : `${lowerFirst(issue.message)}, got ${describe(input)}`,
        });
        break;
      case 'invalid_union': {
        const branch = pickBranch(issue.errors);
        if (branch === undefined) {
          const expected = unionTypes(issue.errors).map(typeName).join(' or ');
          const message =
            expected === ''
              ? lowerFirst(issue.message)
              : input === undefined
                ? `required: expected ${expected}`
                : `expected ${expected}, got ${describe(input)}`;
          out.push({ path, message });
          break;
        }
        const options_ = schemaAt(schema, local)?._zod.def.options;
        collect(issue.errors[branch] ?? [], options_?.[branch], path, options, out);
        break;
      }
      default:
        out.push({ path, message: lowerFirst(issue.message) });
    }
  }
}

/**
 * The union member the input was most likely meant to be: one whose issues are not a plain
 * type or literal mismatch at its root (`type: field` rules out the group branch), with the
 * fewest issues. Undefined when every member rejected the input's type outright.
 */
function pickBranch(branches: readonly (readonly ZodIssue[])[]): number | undefined {
  let best: number | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  branches.forEach((issues, index) => {
    const mismatch = issues.some(
      (i) =>
        (i.code === 'invalid_type' && i.path.length === 0) ||
        (i.code === 'invalid_value' && i.values.length === 1 && i.path.length <= 1),
    );
    if (!mismatch && issues.length < bestCount) {
      best = index;
      bestCount = issues.length;
    }
  });
  return best;
}

function unionTypes(branches: readonly (readonly ZodIssue[])[]): string[] {
  const types = new Set<string>();
  for (const issues of branches) {
    for (const i of issues) if (i.code === 'invalid_type' && i.path.length === 0) types.add(i.expected);
  }
  return [...types];
}

function unwrap(schema: Walkable | undefined): Walkable | undefined {
  let current = schema;
  for (let guard = 0; current && guard < 20; guard++) {
    const def: SchemaDef = current._zod.def;
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else if (def.type === 'lazy' && def.getter) current = def.getter();
    else return current;
  }
  return current;
}

/** The schema that validates the value at `path` below `schema`, when it can be found. */
function schemaAt(schema: Walkable | undefined, path: readonly (string | number)[]): Walkable | undefined {
  let current = unwrap(schema);
  for (const [index, key] of path.entries()) {
    if (!current) return undefined;
    const def: SchemaDef = current._zod.def;
    if (def.type === 'union' && def.options) {
      const rest = path.slice(index);
      return def.options.map((o) => schemaAt(o, rest)).find((s) => s !== undefined);
    }
    if (def.type === 'object' && typeof key === 'string') current = unwrap(def.shape?.[key]);
    else if (def.type === 'array' && typeof key === 'number') current = unwrap(def.element);
    else if (def.type === 'record') current = unwrap(def.valueType);
    else return undefined;
  }
  return current;
}

function objectKeys(schema: Walkable | undefined): string[] {
  const def = schema?._zod.def;
  if (def?.type === 'union' && def.options)
    return [...new Set(def.options.flatMap((o) => objectKeys(unwrap(o))))];
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** A short, YAML-flavoured description of a value found in a config file. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

/** zod's type names in the words of a YAML file. */
function typeName(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    record: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
