/**
 * What mapping validation and mapping application report. Paths are relative to the object
 * that was checked (`contact.fields[3].transform[0]` inside a `Mappings` object); callers that
 * know more prefix them (`mappings.`).
 */
export interface MappingIssue {
  path: string;
  message: string;
  /**
   * `error` stops a mapping from compiling; `warning` compiles but deserves an admin's look
   * (for example two CRM values mapped to one provider value, which a pull cannot tell apart).
   */
  severity: 'error' | 'warning';
}

/** `where` + `.key`, with no leading dot when `where` is empty. */
export function child(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}

/** `where` + `[index]`. */
export function item(where: string, index: number): string {
  return `${where}[${index}]`;
}

export function formatIssues(issues: readonly MappingIssue[]): string {
  return issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`).join('; ');
}

/** A mapping that cannot work, with every problem found (not just the first). */
export class MappingCompileError extends Error {
  readonly issues: MappingIssue[];
  constructor(issues: MappingIssue[]) {
    super(`invalid mapping: ${formatIssues(issues)}`);
    this.name = 'MappingCompileError';
    this.issues = issues;
  }
}

/** zod issues as mapping issues, with `where`-prefixed `fields[3].transform`-style paths. */
export function fromZodIssues(
  zodIssues: readonly { path: readonly PropertyKey[]; message: string }[],
  where: string,
): MappingIssue[] {
  return zodIssues.map((issue) => {
    let path = where;
    for (const key of issue.path) path = typeof key === 'number' ? item(path, key) : child(path, String(key));
    return { path, message: issue.message, severity: 'error' as const };
  });
}
