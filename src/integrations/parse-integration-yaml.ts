import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { formatConfigPath } from './config-path.js';
import type { ConfigProblem } from './config-problem.js';
import { type Environment, interpolate, protectReferences } from './env-interpolation.js';
import type { IntegrationConfig } from './schema.js';
import { validateIntegrationConfig } from './validate-integration.js';
import { type ConfigPath, describeValue } from './zod-issues.js';

/**
 * Integration files. A file holds one integration (a mapping with `key`, `provider`, …), a list
 * under `integrations:`, or several YAML documents separated by `---`, each either of those.
 */

export interface ParsedIntegration {
  config: IntegrationConfig;
  file: string;
  /** '' for a document holding one integration, `integrations[2]` for a list entry. */
  path: string;
  line?: number | undefined;
  col?: number | undefined;
}

export interface IntegrationFileResult {
  file: string;
  /** The valid integrations; callers that need all or nothing check `problems` first. */
  integrations: ParsedIntegration[];
  problems: ConfigProblem[];
  /** Worth an admin's look, but valid (e.g. a value map a pull cannot invert). */
  warnings: ConfigProblem[];
}

interface Position {
  line: number;
  col: number;
}

/**
 * Parses and validates integration YAML, collecting every problem with its file, line:column
 * and path instead of stopping at the first. `${NAME}` / `${NAME:-default}` are replaced in
 * string values from `env`.
 *
 * @example
 * const { integrations, problems } = parseIntegrationYaml(text, 'config/hubspot.yaml', process.env);
 * problems.map(formatProblem) // ['config/hubspot.yaml:4:11: provider: expected one of …']
 */
export function parseIntegrationYaml(
  text: string,
  fileName: string,
  env: Environment = process.env,
): IntegrationFileResult {
  const lineCounter = new LineCounter();
  const safe = protectReferences(text);
  const documents = parseAllDocuments(safe.text, { lineCounter, prettyErrors: false });
  const result: IntegrationFileResult = { file: fileName, integrations: [], problems: [], warnings: [] };
  const problem = (path: ConfigPath, message: string, at: Position | undefined) =>
    result.problems.push({ file: fileName, path: formatConfigPath(path), message, ...at });
  const warning = (path: ConfigPath, message: string, at: Position | undefined) =>
    result.warnings.push({ file: fileName, path: formatConfigPath(path), message, ...at });

  let declared = 0;
  for (const doc of Array.isArray(documents) ? documents : []) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const message = safe.restore(error.message.split('\n')[0] ?? '');
        problem([], `invalid YAML: ${message}`, lineCounter.linePos(error.pos[0]));
      }
      continue;
    }
    let value: unknown;
    try {
      value = restoreReferences(doc.toJS({ maxAliasCount: 100 }), safe.restore);
    } catch (error) {
      problem([], `invalid YAML: ${error instanceof Error ? error.message : String(error)}`, undefined);
      continue;
    }
    const entries = entriesOf(value, (path, message) =>
      problem(path, message, locate(doc, path, lineCounter)),
    );
    declared += entries.length;
    for (const { path: base, value: raw } of entries) {
      const at = (path: ConfigPath) => locate(doc, path, lineCounter);
      const {
        value: resolved,
        sources,
        failed,
      } = interpolateValues(raw, env, base, (path, message) => problem(path, message, at(path)));
      const validation = validateIntegrationConfig(resolved, {
        describeInput: (path, input) => {
          const names = sources.get(pathKey(path));
          return names && typeof input === 'string' ? `the string from ${names}` : undefined;
        },
      });
      for (const issue of validation.warnings) {
        const path = [...base, ...issue.path];
        warning(path, issue.message, at(path));
      }
      if (!validation.ok) {
        for (const issue of validation.issues) {
          const path = [...base, ...issue.path];
          // The unresolved `${NAME}` left in place already has its problem; more would be noise.
          if (failed.has(pathKey(issue.path))) continue;
          const typed =
            sources.has(pathKey(issue.path)) &&
            /^expected (a number|an integer|true or false),/.test(issue.message);
          problem(
            path,
            typed ? `${issue.message} (interpolated values are strings)` : issue.message,
            at(path),
          );
        }
        continue;
      }
      if (failed.size > 0) continue;
      result.integrations.push({
        config: validation.config,
        file: fileName,
        path: formatConfigPath(base),
        ...at(base),
      });
    }
  }
  if (declared === 0 && result.problems.length === 0) {
    problem(
      [],
      'no integration found: expected an integration (key, provider, …) or `integrations: [...]`',
      undefined,
    );
  }
  // Reading order: an admin fixes a file top to bottom.
  result.problems.sort(byPosition);
  result.warnings.sort(byPosition);
  return result;
}

/** Reports integrations declared twice (by `key`) across the given results. */
export function duplicateKeyProblems(results: IntegrationFileResult[]): ConfigProblem[] {
  const first = new Map<string, ParsedIntegration>();
  const problems: ConfigProblem[] = [];
  for (const parsed of results.flatMap((r) => r.integrations)) {
    const earlier = first.get(parsed.config.key);
    if (!earlier) {
      first.set(parsed.config.key, parsed);
      continue;
    }
    const where = earlier.line === undefined ? earlier.file : `${earlier.file}:${earlier.line}`;
    problems.push({
      file: parsed.file,
      path: parsed.path === '' ? 'key' : `${parsed.path}.key`,
      message: `duplicate integration key "${parsed.config.key}" (first declared at ${where})`,
      line: parsed.line,
      col: parsed.col,
    });
  }
  return problems;
}

function entriesOf(
  value: unknown,
  problem: (path: ConfigPath, message: string) => void,
): { path: ConfigPath; value: unknown }[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'object' && !Array.isArray(value) && 'integrations' in value) {
    const extra = Object.keys(value).filter((k) => k !== 'integrations');
    for (const key of extra) {
      problem([key], `unknown key "${key}": a document with \`integrations:\` holds only that list`);
    }
    const list = (value as { integrations: unknown }).integrations;
    if (!Array.isArray(list)) {
      problem(['integrations'], `expected a list of integrations, got ${describeValue(list)}`);
      return [];
    }
    return list.map((item, index) => ({ path: ['integrations', index], value: item }));
  }
  return [{ path: [], value }];
}

/**
 * Interpolates every string value (never keys) below `value`. Returns which variables fed which
 * path, so messages can name the variable instead of printing a possibly secret value.
 */
function interpolateValues(
  value: unknown,
  env: Environment,
  base: ConfigPath,
  problem: (path: ConfigPath, message: string) => void,
): { value: unknown; sources: Map<string, string>; failed: Set<string> } {
  const sources = new Map<string, string>();
  const failed = new Set<string>();
  const walk = (node: unknown, path: ConfigPath): unknown => {
    if (typeof node === 'string') {
      const result = interpolate(node, env);
      if (result.used.length > 0) sources.set(pathKey(path), result.used.map((n) => `\${${n}}`).join(', '));
      for (const message of result.problems) problem([...base, ...path], message);
      if (result.problems.length > 0) failed.add(pathKey(path));
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(value, []), sources, failed };
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

function restoreReferences(value: unknown, restore: (text: string) => string): unknown {
  if (typeof value === 'string') return restore(value);
  if (Array.isArray(value)) return value.map((item) => restoreReferences(item, restore));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [restore(k), restoreReferences(v, restore)]),
    );
  }
  return value;
}

function pathKey(path: ConfigPath): string {
  return JSON.stringify(path);
}

/** The line:column of the deepest node on `path` that exists (a key's position for map entries). */
function locate(doc: Document, path: ConfigPath, lineCounter: LineCounter): Position | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else break;
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}
