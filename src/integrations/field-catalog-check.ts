import type { FieldDescriptor, MissingFieldVerdict } from '../connectors/types.js';
import { didYouMean } from '../mappings/did-you-mean.js';
import type { EntityMapping } from '../mappings/schema.js';

export interface CatalogIssue {
  /** Relative to the integration: `mappings.contact.fields[3].target`. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

const NUMERIC_TRANSFORMS = new Set(['number', 'integer', 'round']);
const DATE_TRANSFORMS = new Set(['date', 'datetime']);

function transformNames(field: EntityMapping['fields'][number]): string[] {
  return field.transform.map((t) => (typeof t === 'string' ? t : (Object.keys(t)[0] ?? '')));
}

const LISTED_FIELDS = 20;

/**
 * Checks an entity mapping's push targets against the provider's live field catalog: each
 * target exists, is writable, and the constants and mapped values it can receive fit its type
 * and its options. Pure: the caller fetched `catalog` with the connector's `describeFields`, and
 * `explainMissing` is the connector's `explainMissingField`: a missing target it accepts (one it
 * creates, or leaves out while absent) is a warning saying so, not an error.
 */
export function checkMappingAgainstCatalog(
  entityType: string,
  mapping: EntityMapping,
  catalog: readonly FieldDescriptor[],
  providerName: string,
  explainMissing?: (target: string) => MissingFieldVerdict | undefined,
): CatalogIssue[] {
  const byName = new Map(catalog.map((f) => [f.name, f]));
  const writable = catalog.filter((f) => !f.readOnly).map((f) => f.name);
  const issues: CatalogIssue[] = [];
  mapping.fields.forEach((field, index) => {
    if (field.direction === 'pull') return;
    const at = `mappings.${entityType}.fields[${index}]`;
    const target = byName.get(field.target);
    if (!target) {
      const verdict = explainMissing?.(field.target);
      if (verdict?.accepted) {
        issues.push({
          path: `${at}.target`,
          message: `"${field.target}" is not a ${providerName} ${entityType} field yet: ${verdict.note}`,
          severity: 'warning',
        });
        return;
      }
      const listed = `${writable.slice(0, LISTED_FIELDS).join(', ')}${writable.length > LISTED_FIELDS ? ', …' : ''}`;
      issues.push({
        path: `${at}.target`,
        message: `"${field.target}" is not a ${providerName} ${entityType} field${didYouMean(field.target, [...byName.keys()])}; fields: ${listed}${verdict ? `; ${verdict.note}` : ''}`,
        severity: 'error',
      });
      return;
    }
    if (target.readOnly) {
      issues.push({
        path: `${at}.target`,
        message: `"${field.target}" is read-only in ${providerName}: it cannot be pushed`,
        severity: 'error',
      });
    }
    const candidates: { where: string; value: unknown }[] = [];
    if (field.value !== undefined) candidates.push({ where: `${at}.value`, value: field.value });
    if (field.default !== undefined) candidates.push({ where: `${at}.default`, value: field.default });
    for (const [crmValue, providerValue] of Object.entries(field.map ?? {})) {
      candidates.push({ where: `${at}.map.${crmValue}`, value: providerValue });
    }
    const transforms = transformNames(field);
    for (const { where, value } of candidates) {
      if (value === null) continue;
      if (target.type === 'enumeration' && target.options && !target.options.includes(String(value))) {
        issues.push({
          path: where,
          message: `${JSON.stringify(value)} is not an option of ${field.target}${didYouMean(String(value), target.options)}; options: ${target.options.slice(0, 20).join(', ')}${target.options.length > 20 ? ', …' : ''}`,
          severity: 'error',
        });
      }
      if (target.type === 'number' && Number.isNaN(Number(value))) {
        issues.push({
          path: where,
          message: `${JSON.stringify(value)} is not a number, and ${field.target} is numeric`,
          severity: 'error',
        });
      }
      if (target.type === 'boolean' && !['true', 'false'].includes(String(value))) {
        issues.push({
          path: where,
          message: `${JSON.stringify(value)} is not true or false, and ${field.target} is a boolean`,
          severity: 'error',
        });
      }
    }
    if (target.type === 'number' && transforms.some((t) => t === 'boolean' || DATE_TRANSFORMS.has(t))) {
      issues.push({
        path: `${at}.transform`,
        message: `${field.target} is numeric but the transforms produce ${transforms.join(', ')}`,
        severity: 'error',
      });
    }
    if (
      (target.type === 'date' || target.type === 'datetime') &&
      field.source &&
      !transforms.some((t) => DATE_TRANSFORMS.has(t))
    ) {
      issues.push({
        path: `${at}.transform`,
        message: `${field.target} is a ${target.type} field: add the "${target.type}" transform so values arrive in the form ${providerName} accepts`,
        severity: 'warning',
      });
    }
    if (target.type === 'string' && transforms.some((t) => NUMERIC_TRANSFORMS.has(t))) {
      issues.push({
        path: `${at}.transform`,
        message: `${field.target} is text; the numeric transform will be sent as text`,
        severity: 'warning',
      });
    }
  });
  return issues;
}
