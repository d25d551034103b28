/**
 * One thing wrong with an integration's configuration, located well enough that an admin can
 * go straight to it: the file, the line and column when known, and the path inside the file.
 */
export interface ConfigProblem {
  file: string;
  /** `mappings.contact.fields[3].transform[0]`; '' when the problem is the file as a whole. */
  path: string;
  message: string;
  line?: number | undefined;
  col?: number | undefined;
}

/**
 * `config/hubspot.yaml:14:11: mappings.contact.fields[3].transform[0]: unknown transform …` —
 * the `file:line:col:` prefix compilers use, which editors and terminals turn into links.
 */
export function formatProblem(problem: ConfigProblem): string {
  const where =
    problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.col ?? 1}`;
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}: ${problem.message}`;
}

/** Thrown by callers that need valid configuration or nothing; carries every problem found. */
export class IntegrationConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in integration config:\n${problems.map(formatProblem).join('\n')}`,
    );
    this.name = 'IntegrationConfigError';
    this.problems = problems;
  }
}
