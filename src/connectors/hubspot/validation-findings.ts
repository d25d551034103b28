import type { HubSpotErrorBody } from './hubspot-answer.js';

/**
 * What a HubSpot VALIDATION_ERROR says about which property (and value) was wrong. Batch calls
 * that are not multi-status fail whole and do not say which input was bad; the findings let the
 * connector pick the bad inputs out by their properties instead of bisecting the batch.
 *
 * HubSpot writes them into the message: `Property values were not valid: [{"isValid":false,
 * "message":"Email address ada@@x is invalid","error":"INVALID_EMAIL","name":"email"}]`, and
 * sometimes into `errors[]` (`in` or `context.propertyName`).
 */
export interface Finding {
  property: string;
  code: string;
  message: string;
}

const PROPERTY_VALUES_PREFIX = 'Property values were not valid: ';

export function findingsOf(body: HubSpotErrorBody | null): Finding[] {
  if (!body) return [];
  const findings: Finding[] = [];
  const message = body.message ?? '';
  const start = message.indexOf(PROPERTY_VALUES_PREFIX);
  if (start >= 0) {
    try {
      const list: unknown = JSON.parse(message.slice(start + PROPERTY_VALUES_PREFIX.length));
      if (Array.isArray(list)) {
        for (const item of list) {
          if (item && typeof item === 'object' && typeof item.name === 'string') {
            findings.push({
              property: item.name,
              code: typeof item.error === 'string' ? item.error : 'INVALID_VALUE',
              message: typeof item.message === 'string' ? item.message : message,
            });
          }
        }
      }
    } catch {
      // Not the JSON list after all: fall through to the structured errors.
    }
  }
  for (const error of body.errors ?? []) {
    const property = error.in ?? error.context?.propertyName?.[0];
    if (property && !findings.some((f) => f.property === property && f.message === error.message)) {
      findings.push({
        property,
        code: error.code ?? error.subCategory ?? 'INVALID_VALUE',
        message: error.message,
      });
    }
  }
  return findings;
}

const MISSING_PROPERTY = new Set(['PROPERTY_DOESNT_EXIST', 'PROPERTY_DOES_NOT_EXIST', 'UNKNOWN_PROPERTY']);

/**
 * Which inputs each finding is about: for an unknown property, every input that sets it; for a
 * bad value, the inputs whose value for that property appears in HubSpot's message. Returns null
 * when some finding cannot be pinned on any input (the caller bisects then).
 */
export function attributeFindings(
  findings: readonly Finding[],
  inputs: readonly { properties: Record<string, string> }[],
): Map<number, Finding> | null {
  if (findings.length === 0) return null;
  const blamed = new Map<number, Finding>();
  for (const finding of findings) {
    const setting = inputs.flatMap((input, index) => (finding.property in input.properties ? [index] : []));
    let hits: number[];
    if (MISSING_PROPERTY.has(finding.code) || /does not exist/i.test(finding.message)) hits = setting;
    else {
      hits = setting.filter((i) => {
        const value = inputs[i]?.properties[finding.property] ?? '';
        return value !== '' && finding.message.includes(value);
      });
      if (hits.length === 0 && setting.length === 1) hits = setting;
    }
    if (hits.length === 0) return null;
    for (const i of hits) if (!blamed.has(i)) blamed.set(i, finding);
  }
  return blamed;
}

/** `Contact already exists. Existing ID: 123` → `123`. */
export function existingIdOf(body: HubSpotErrorBody | null): string | null {
  const match = /Existing ID:\s*(\d+)/i.exec(body?.message ?? '');
  return match?.[1] ?? body?.context?.id?.[0] ?? null;
}
