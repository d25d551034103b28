import { describeValue } from './describe-value.js';
import type { MappingIssue } from './issues.js';
import { Rejection } from './transforms/define.js';

/**
 * A field's `map` (CRM value → provider value) and its inverse for pulls. Keys are text, so a
 * CRM number or boolean is looked up by its text (`true`, `12`); an array maps element by element.
 *
 * Several CRM values may share one provider value (MARKETING_QUALIFIED and SALES_QUALIFIED both
 * → `lead`). A push does not care; a pull cannot tell them apart, so the first one written wins
 * and validation warns about it on fields that are pulled.
 */

type Scalar = string | number | boolean | null;

export interface CompiledValueMap {
  /** The provider value, the default for an unmapped value, or a `Rejection`. */
  forward(value: unknown): unknown;
  /** The CRM value (as the map's key text) for a provider value, or a `Rejection`. */
  inverse(value: unknown): unknown;
}

function keyOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function allowedList(keys: readonly string[]): string {
  const shown = keys.slice(0, 10).join(', ');
  return keys.length > 10 ? `${shown}, … (${keys.length} in all)` : shown;
}

function eachElement(value: unknown, one: (element: unknown) => unknown): unknown {
  if (!Array.isArray(value)) return one(value);
  const out = new Array<unknown>(value.length);
  for (let i = 0; i < value.length; i += 1) {
    const mapped = one(value[i]);
    if (mapped instanceof Rejection) return new Rejection(`element [${i}]: ${mapped.reason}`);
    out[i] = mapped;
  }
  return out;
}

export function compileValueMap(
  map: Readonly<Record<string, Scalar>>,
  options: { hasDefault: boolean; defaultValue: unknown; pulled: boolean; where: string },
  issues: MappingIssue[],
): CompiledValueMap {
  const forward = new Map<string, Scalar>(Object.entries(map));
  const inverse = new Map<string, string>();
  for (const [crmValue, providerValue] of forward) {
    // null clears the provider field; there is nothing to pull back from it.
    if (providerValue === null) continue;
    const key = String(providerValue);
    const first = inverse.get(key);
    if (first === undefined) inverse.set(key, crmValue);
    else if (options.pulled) {
      issues.push({
        path: options.where,
        severity: 'warning',
        message: `${JSON.stringify(first)} and ${JSON.stringify(crmValue)} both map to ${JSON.stringify(providerValue)}; a pull turns ${JSON.stringify(providerValue)} into ${JSON.stringify(first)} (the first)`,
      });
    }
  }
  const crmKeys = [...forward.keys()];
  const providerKeys = [...inverse.keys()];

  const forwardOne = (element: unknown): unknown => {
    if (element === null || element === undefined) return element;
    const key = keyOf(element);
    if (key !== undefined && forward.has(key)) return forward.get(key);
    if (options.hasDefault) return options.defaultValue;
    return new Rejection(
      `${describeValue(element)} has no entry in the map (allowed: ${allowedList(crmKeys)}) and there is no default`,
    );
  };
  const inverseOne = (element: unknown): unknown => {
    if (element === null || element === undefined) return element;
    const key = keyOf(element);
    const crmValue = key === undefined ? undefined : inverse.get(key);
    if (crmValue !== undefined) return crmValue;
    return new Rejection(
      `provider value ${describeValue(element)} has no CRM value in the map (known: ${allowedList(providerKeys)})`,
    );
  };

  return {
    forward: (value) => eachElement(value, forwardOne),
    inverse: (value) => eachElement(value, inverseOne),
  };
}
