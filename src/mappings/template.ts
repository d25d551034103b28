import type { MappingIssue } from './issues.js';
import { type CompiledPath, parsePath, readPath } from './path.js';

/**
 * `{{path}}` templates over the snapshot, e.g. `"{{givenName}} {{familyName}}"`.
 *
 * A placeholder whose value is missing, null or "" renders empty, and the whitespace around it
 * collapses: none at the start or end of the result, and the whitespace before it kept (the
 * whitespace after it dropped) in the middle, so `"{{givenName}} {{familyName}}"` gives `"Ada"`
 * or `"Lovelace"` rather than a stray space. Only whitespace collapses, not punctuation. When
 * every placeholder is missing the field is missing. Values render as text: numbers and
 * booleans as written, dates as ISO 8601, arrays as `a, b`, objects as JSON.
 */

type Part = { literal: string } | { path: CompiledPath };

export interface CompiledTemplate {
  /** The rendered text, or `undefined` when every placeholder was missing. */
  render(record: unknown): string | undefined;
  paths: readonly CompiledPath[];
}

export function compileTemplate(text: string, where: string, issues: MappingIssue[]): CompiledTemplate {
  const parts: Part[] = [];
  let i = 0;
  let ok = true;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      parts.push({ literal: text.slice(i) });
      break;
    }
    if (open > i) parts.push({ literal: text.slice(i, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      issues.push({
        path: where,
        severity: 'error',
        message: `"{{" at position ${open} is never closed with "}}"`,
      });
      ok = false;
      break;
    }
    const inner = text.slice(open + 2, close).trim();
    const parsed = parsePath(inner);
    if ('error' in parsed) {
      const what = inner === '' ? 'empty placeholder' : `placeholder "{{${inner}}}"`;
      issues.push({
        path: where,
        severity: 'error',
        message: `${what} at position ${open}: ${parsed.error}`,
      });
      ok = false;
    } else {
      parts.push({ path: parsed });
    }
    i = close + 2;
  }
  const paths = parts.flatMap((p) => ('path' in p ? [p.path] : []));
  if (!ok) return { render: () => undefined, paths };
  if (paths.length === 0) {
    const constant = text;
    return { render: () => constant, paths };
  }
  return { render: (record) => render(parts, record), paths };
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (Array.isArray(value)) {
    return value
      .map(textOf)
      .filter((s) => s !== '')
      .join(', ');
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const SPACE = /\s/;

function endsWithSpace(text: string): boolean {
  return text === '' || SPACE.test(text[text.length - 1]!);
}

function render(parts: readonly Part[], record: unknown): string | undefined {
  let out = '';
  let anyPresent = false;
  // Set after a missing placeholder: the whitespace that follows it is dropped.
  let gap = false;
  for (const part of parts) {
    if ('literal' in part) {
      out += gap && endsWithSpace(out) ? part.literal.trimStart() : part.literal;
      gap = false;
      continue;
    }
    const text = textOf(readPath(record, part.path));
    if (text === '') {
      gap = true;
      continue;
    }
    anyPresent = true;
    out += text;
    gap = false;
  }
  if (!anyPresent) return undefined;
  return gap ? out.trimEnd() : out;
}
