/**
 * Dot paths into a record: `email`, `properties.mrr`, `companies[0].name`, `companies.0.name`,
 * `properties["Customer Tier"]`. A path is parsed once, when a mapping or filter compiles, into
 * segments; reading it per record is then a plain loop with no string work.
 */

/** A property name, or an array index (a digits-only segment, which also reads an object key). */
export type PathSegment = string | number;

export interface CompiledPath {
  /** The path as written. */
  readonly text: string;
  readonly segments: readonly PathSegment[];
  /** One spelling per path (`companies[0].name`), so that equal paths compare equal. */
  readonly canonical: string;
}

export class PathSyntaxError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`invalid path "${path}": ${reason}`);
    this.name = 'PathSyntaxError';
  }
}

const DIGITS = /^\d+$/;

function segmentOf(raw: string): PathSegment {
  // Indexes beyond 2^53 cannot be array indexes; keep them as (object) keys.
  return DIGITS.test(raw) && raw.length < 16 ? Number(raw) : raw;
}

/** Parses a path, or says what is wrong with it and where. */
export function parsePath(text: string): CompiledPath | { error: string } {
  if (text.trim() === '') return { error: 'the path is empty' };
  const segments: PathSegment[] = [];
  let i = 0;
  // After a segment we expect ".", "[" or the end; at the start, or after ".", a name.
  let expectName = true;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '[') {
      if (expectName && segments.length > 0) return { error: `"." followed by "[" at position ${i}` };
      const close = text.indexOf(']', i + 1);
      if (close < 0) return { error: `"[" at position ${i} is never closed` };
      const inner = text.slice(i + 1, close);
      const quote = inner[0];
      if ((quote === '"' || quote === "'") && inner.length >= 2 && inner.endsWith(quote)) {
        const key = inner.slice(1, -1);
        if (key === '') return { error: `empty key "[${inner}]" at position ${i}` };
        segments.push(key);
      } else if (DIGITS.test(inner)) {
        segments.push(segmentOf(inner));
      } else {
        return {
          error: `"[${inner}]" at position ${i} must be an index like [0] or a quoted key like ["a b"]`,
        };
      }
      i = close + 1;
      expectName = false;
      continue;
    }
    if (ch === ']') return { error: `unexpected "]" at position ${i}` };
    if (ch === '.') {
      if (expectName) return { error: `empty segment before "." at position ${i}` };
      expectName = true;
      i += 1;
      if (i === text.length) return { error: 'the path ends with "."' };
      continue;
    }
    if (!expectName) return { error: `expected "." or "[" at position ${i}` };
    let end = i;
    while (end < text.length && text[end] !== '.' && text[end] !== '[' && text[end] !== ']') end += 1;
    const name = text.slice(i, end);
    if (name.trim() !== name) return { error: `segment "${name}" starts or ends with a space` };
    segments.push(segmentOf(name));
    i = end;
    expectName = false;
  }
  return { text, segments, canonical: canonicalOf(segments) };
}

const PLAIN_NAME = /^[^.[\]"' ]+$/;

function canonicalOf(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_NAME.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Parses a path or throws `PathSyntaxError`. */
export function compilePath(text: string): CompiledPath {
  const parsed = parsePath(text);
  if ('error' in parsed) throw new PathSyntaxError(text, parsed.error);
  return parsed;
}

/**
 * Reads a compiled path. Only own properties count, so `constructor` or `__proto__` never read
 * the prototype chain; a name on an array, or anything past a scalar, is `undefined`.
 */
export function readPath(record: unknown, path: CompiledPath): unknown {
  let current = record;
  for (const segment of path.segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (typeof segment !== 'number') return undefined;
      current = current[segment];
    } else {
      current = Object.hasOwn(current, segment)
        ? (current as Record<PathSegment, unknown>)[segment]
        : undefined;
    }
  }
  return current;
}

// Paths come from configuration, so their number is small; the bound only guards against a
// caller feeding record data in as paths.
const cache = new Map<string, CompiledPath>();
const CACHE_LIMIT = 1000;

/**
 * Reads a dot path from a record; throws `PathSyntaxError` on a malformed path.
 * @example getPath({ companies: [{ name: 'Acme' }] }, 'companies[0].name') // 'Acme'
 */
export function getPath(record: unknown, path: string | CompiledPath): unknown {
  if (typeof path !== 'string') return readPath(record, path);
  let compiled = cache.get(path);
  if (!compiled) {
    compiled = compilePath(path);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(path, compiled);
  }
  return readPath(record, compiled);
}
