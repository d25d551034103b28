// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text, where ${NAME} is the interpolation syntax under test
import { describe, expect, it } from 'vitest';
import { interpolate, protectReferences } from '../../src/integrations/env-interpolation.js';

describe('interpolate', () => {
  it.each([
    ['replaces a set variable', 'Bearer ${TOKEN}', { TOKEN: 'abc' }, 'Bearer abc'],
    ['replaces several in one string', '${A}-${B}', { A: '1', B: '2' }, '1-2'],
    ['uses the default when the variable is unset', '${REGION:-eu}', {}, 'eu'],
    ['uses the default when the variable is empty', '${REGION:-eu}', { REGION: '' }, 'eu'],
    ['prefers the variable over its default', '${REGION:-eu}', { REGION: 'us' }, 'us'],
    ['allows an empty default', 'x${OPT:-}y', {}, 'xy'],
    ['keeps a set but empty variable without a default empty', '[${EMPTY}]', { EMPTY: '' }, '[]'],
    [
      'keeps special characters of a value as they are',
      '${S}',
      { S: `a: "b" # c ' {d}` },
      `a: "b" # c ' {d}`,
    ],
    ['turns $${ into a literal ${', 'cost: $${PRICE}', { PRICE: '9' }, 'cost: ${PRICE}'],
    ['leaves strings without references alone', 'plain $ text', {}, 'plain $ text'],
  ])('%s', (_case, text, env, expected) => {
    const result = interpolate(text, env);
    expect(result.problems).toEqual([]);
    expect(result.value).toBe(expected);
  });

  it('reports an unset variable with no default, naming it', () => {
    expect(interpolate('${HUBSPOT_TOKEN}', {}).problems).toEqual([
      'environment variable HUBSPOT_TOKEN is not set (write ${HUBSPOT_TOKEN:-default} to give a default)',
    ]);
  });

  it.each([
    ['a name with a space', '${MY TOKEN}', 'invalid reference "${MY TOKEN}"'],
    ['a name starting with a digit', '${1X}', 'invalid reference "${1X}"'],
    ['an unclosed reference', 'x ${TOKEN', 'unclosed "${"'],
  ])('reports %s', (_case, text, message) => {
    expect(interpolate(text, {}).problems[0]).toContain(message);
  });

  it('lists the variables a string used, for keeping their values out of messages', () => {
    expect(interpolate('${A}/${B:-x}', { A: '1' }).used).toEqual(['A', 'B']);
  });
});

describe('protectReferences', () => {
  it('keeps the text length, so YAML positions stay exact, and restores every reference', () => {
    const text = 'credentials: { accessToken: ${T} }\nurl: "${BASE:-http://x}/hook"\nn: $${KEEP}';
    const safe = protectReferences(text);
    expect(safe.text).toHaveLength(text.length);
    expect(safe.text).not.toContain('${T}');
    expect(safe.text).toContain('$${KEEP}');
    expect(safe.restore(safe.text)).toBe(text);
  });

  it('tells thousands of references apart', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `\${V${i}}`).join(' ');
    const safe = protectReferences(text);
    expect(safe.restore(safe.text)).toBe(text);
  });
});
