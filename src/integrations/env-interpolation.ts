/**
 * `${NAME}` and `${NAME:-default}` in configuration strings. It runs on string values after the
 * YAML is parsed, so a secret full of quotes, colons or `#` can never change the file's
 * structure, and an interpolated value always stays a string.
 */

export type Environment = Readonly<Record<string, string | undefined>>;

export interface InterpolationResult {
  value: string;
  /** Variable names that were referenced, for keeping their values out of error messages. */
  used: string[];
  problems: string[];
}

// `$${` is an escaped `${` (as in Docker Compose); otherwise `${…}` up to the first `}` on the line.
const REFERENCE = /\$\$\{|\$\{([^}\n]*)\}/g;
const NAME_AND_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces every reference in `text`. A variable that is unset (or empty, for the `:-` form)
 * takes its default; one that is unset with no default is a problem, named in `problems`.
 *
 * @example
 * interpolate('Bearer ${TOKEN}', { TOKEN: 'abc' }).value      // 'Bearer abc'
 * interpolate('${REGION:-eu}', {}).value                       // 'eu'
 */
export function interpolate(text: string, env: Environment): InterpolationResult {
  const used: string[] = [];
  const problems: string[] = [];
  if (!text.includes('$')) return { value: text, used, problems };
  const value = text.replace(REFERENCE, (whole: string, inner: string | undefined) => {
    if (inner === undefined) return '${';
    const match = NAME_AND_DEFAULT.exec(inner);
    if (!match) {
      problems.push(
        `invalid reference "${whole}": expected \${NAME} or \${NAME:-default} (NAME: letters, digits and _, not starting with a digit)`,
      );
      return whole;
    }
    const name = match[1] as string;
    const fallback = match[2];
    used.push(name);
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
    if (current === undefined) {
      problems.push(`environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
      return whole;
    }
    return current;
  });
  if (text.replace(REFERENCE, '').includes('${')) {
    problems.push(`unclosed "\${": expected \${NAME} or \${NAME:-default}`);
  }
  return { value, used, problems };
}

// Private-use characters: valid inside any YAML scalar, and never typed by people.
const MARK = 0xe000;
const PAD = 0xe001;
const DIGIT0 = 0xe100;
const DIGITS = 0x1000;
const PLACEHOLDER = /\ue000[\ue100-\uf0ff]+\ue001*/g;

/**
 * Makes references safe to parse: `credentials: { accessToken: ${TOKEN} }` is not valid YAML
 * as written (`{` opens a flow mapping), yet it is how admins write it. Each reference becomes a
 * placeholder of the same length, so YAML positions stay exact; `restore` puts the reference
 * back into a parsed string before it is interpolated.
 */
export function protectReferences(text: string): { text: string; restore(value: string): string } {
  const references: string[] = [];
  if (/[\ue000-\uf0ff]/.test(text)) return { text, restore: (v) => v };
  const protectedText = text.replace(REFERENCE, (whole: string, inner: string | undefined) => {
    if (inner === undefined) return whole;
    let index = references.push(whole) - 1;
    let encoded = '';
    do {
      encoded = String.fromCharCode(DIGIT0 + (index % DIGITS)) + encoded;
      index = Math.floor(index / DIGITS);
    } while (index > 0);
    const placeholder = String.fromCharCode(MARK) + encoded;
    // References are at least 4 characters (`${A}`), enough for 16 million of them.
    return placeholder + String.fromCharCode(PAD).repeat(Math.max(0, whole.length - placeholder.length));
  });
  return {
    text: protectedText,
    restore: (value) =>
      references.length === 0
        ? value
        : value.replace(PLACEHOLDER, (placeholder) => {
            let index = 0;
            for (const ch of placeholder.slice(1)) {
              const code = ch.charCodeAt(0);
              if (code === PAD) break;
              index = index * DIGITS + (code - DIGIT0);
            }
            return references[index] ?? placeholder;
          }),
  };
}
