import { readFile } from 'node:fs/promises';
import type { ConfigProblem } from './config-problem.js';
import type { Environment } from './env-interpolation.js';
import {
  duplicateKeyProblems,
  type IntegrationFileResult,
  type ParsedIntegration,
  parseIntegrationYaml,
} from './parse-integration-yaml.js';

/** Reads and validates one integration file; a file that cannot be read is a problem, not a throw. */
export async function loadIntegrationFile(
  path: string,
  env: Environment = process.env,
): Promise<IntegrationFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    const problems = [{ file: path, path: '', message: `cannot read: ${reason}` }];
    return { file: path, integrations: [], problems, warnings: [] };
  }
  return parseIntegrationYaml(text, path, env);
}

/**
 * Loads several files as one set: every problem of every file, plus keys declared twice across
 * them. What `integrations validate` and `apply` run before touching the database.
 */
export async function loadIntegrationFiles(
  paths: readonly string[],
  env: Environment = process.env,
): Promise<{ integrations: ParsedIntegration[]; problems: ConfigProblem[]; warnings: ConfigProblem[] }> {
  const results = await Promise.all(paths.map((p) => loadIntegrationFile(p, env)));
  return {
    integrations: results.flatMap((r) => r.integrations),
    problems: [...results.flatMap((r) => r.problems), ...duplicateKeyProblems(results)],
    warnings: results.flatMap((r) => r.warnings),
  };
}
