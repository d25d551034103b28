import type { ConfigPath } from './zod-issues.js';

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/**
 * `['mappings', 'contact', 'fields', 3]` → `mappings.contact.fields[3]`. Keys that are not plain
 * words are quoted (`settings["x.y"]`) so the path stays unambiguous.
 */
export function formatConfigPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (!IDENTIFIER.test(key)) out += `[${JSON.stringify(key)}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

/** The inverse, for paths other modules report as strings (`contact.fields[3].transform[0]`). */
export function parseConfigPath(text: string): ConfigPath {
  const path: ConfigPath = [];
  const pattern = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const match of text.matchAll(pattern)) {
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else if (match[3] !== undefined) path.push(JSON.parse(`"${match[3]}"`) as string);
  }
  return path;
}
