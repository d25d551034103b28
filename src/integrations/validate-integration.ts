import { connectors } from '../connectors/registry.js';
import type { Provider } from '../connectors/types.js';
import { validateFilter } from '../filters/evaluate.js';
import type { MappingsInput } from '../mappings/schema.js';
import { validateMappings } from '../mappings/validate.js';
import { parseConfigPath } from './config-path.js';
import { IntegrationConfig } from './schema.js';
import { type ConfigIssue, type ConfigPath, describeValue, issuesFromZod } from './zod-issues.js';

export interface ValidateIntegrationOptions {
  /** Shows a value found at `path` in messages; undefined shows it as is. Credentials are always hidden. */
  describeInput?: (path: ConfigPath, input: unknown) => string | undefined;
}

/** `warnings` never fail validation (e.g. two CRM values mapped to one provider value). */
export type IntegrationValidation =
  | { ok: true; config: IntegrationConfig; issues: []; warnings: ConfigIssue[] }
  | { ok: false; config?: undefined; issues: ConfigIssue[]; warnings: ConfigIssue[] };

/**
 * Checks one integration as admins declare it, from any source (YAML, the admin API), and
 * reports every problem at once: the shape (zod), the provider's own settings and credentials
 * schemas when that connector is registered, and the mappings and filter semantics (transform
 * names, operator arguments), which only their own modules know.
 *
 * @example
 * const result = validateIntegrationConfig(yamlValue);
 * if (!result.ok) for (const i of result.issues) console.log(formatConfigPath(i.path), i.message);
 */
export function validateIntegrationConfig(
  input: unknown,
  options: ValidateIntegrationOptions = {},
): IntegrationValidation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      issues: [
        {
          path: [],
          message: `expected an integration (a mapping with key, provider, …), got ${describeValue(input)}`,
        },
      ],
      warnings: [],
    };
  }
  const raw = input as Record<string, unknown>;
  const describeInput = (path: ConfigPath, value: unknown) =>
    path[0] === 'credentials' ? hidden(value) : options.describeInput?.(path, value);

  const parsed = IntegrationConfig.safeParse(raw, { reportInput: true });
  const issues = parsed.success
    ? []
    : issuesFromZod(parsed.error.issues, IntegrationConfig, { describeInput });
  const warnings: ConfigIssue[] = [];
  issues.push(...connectorIssues(raw, describeInput));
  const semantic = semanticIssues(raw, issues);
  issues.push(...semantic.errors);
  warnings.push(...semantic.warnings);

  const unique = dedupe(issues);
  if (unique.length > 0 || !parsed.success) return { ok: false, issues: unique, warnings };
  return { ok: true, config: parsed.data, issues: [], warnings };
}

/** The registered connector's own settings and credentials schemas; none registered, nothing to add. */
function connectorIssues(
  raw: Record<string, unknown>,
  describeInput: (path: ConfigPath, value: unknown) => string | undefined,
): ConfigIssue[] {
  const connector =
    typeof raw.provider === 'string' && Object.hasOwn(connectors, raw.provider)
      ? connectors[raw.provider as Provider]
      : undefined;
  if (!connector) return [];
  const issues: ConfigIssue[] = [];
  for (const section of ['settings', 'credentials'] as const) {
    const value = raw[section] ?? {};
    // A section that is not a mapping at all is already reported by the shape check.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const schema = connector[section];
    let result: ReturnType<typeof schema.safeParse>;
    try {
      result = schema.safeParse(value, { reportInput: true });
    } catch (error) {
      // A refinement that throws on a value an earlier check already rejected must not take the
      // whole validation down; its message is left out, as it may quote the value.
      const kind = error instanceof Error ? error.name : typeof error;
      issues.push({
        path: [section],
        message: `the ${connector.provider} connector could not check these ${section} (${kind}); check each value`,
      });
      continue;
    }
    if (!result.success) {
      issues.push(...issuesFromZod(result.error.issues, schema, { base: [section], describeInput }));
    }
  }
  return issues;
}

/**
 * What only the mappings and filters modules know: transform names and parameters, path and
 * template syntax, operator arguments, value maps a pull cannot invert. They re-report shape
 * errors too; where the shape check already said something at or below a path, its message is
 * kept instead, so nothing is said twice.
 */
function semanticIssues(
  raw: Record<string, unknown>,
  already: readonly ConfigIssue[],
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const found: { path: ConfigPath; message: string; warning: boolean }[] = [];
  if (isMapping(raw.mappings)) {
    for (const issue of validateMappings(raw.mappings as MappingsInput)) {
      found.push({
        path: ['mappings', ...parseConfigPath(issue.path)],
        message: issue.message,
        warning: issue.severity === 'warning',
      });
    }
  }
  if (isMapping(raw.filter)) {
    for (const issue of validateFilter(raw.filter)) {
      found.push({
        path: ['filter', ...parseConfigPath(issue.path)],
        message: issue.message,
        warning: false,
      });
    }
  }
  const reported = already.map((i) => JSON.stringify(i.path));
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const { path, message, warning } of found) {
    const prefix = JSON.stringify(path).slice(0, -1);
    if (reported.some((r) => r === `${prefix}]` || r.startsWith(`${prefix},`))) continue;
    (warning ? warnings : errors).push({ path, message });
  }
  return { errors, warnings };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function hidden(value: unknown): string {
  return `a ${Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value} (value hidden)`;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const id = `${JSON.stringify(i.path)}\u0000${i.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
