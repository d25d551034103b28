import type { RouteContext } from './route.js';
import { badRequest, errorBody, SandboxHttpError } from './sandbox-errors.js';
import type { StoredObject } from './sandbox-store.js';

/** What every CRM object route shares: the object type of the path, labels, the public shape. */

export function typeOf(ctx: RouteContext): string {
  const type = ctx.params.type as string;
  if (!ctx.store.knows(type))
    throw new SandboxHttpError(
      400,
      errorBody('VALIDATION_ERROR', `Unable to infer object type from: ${type}`),
    );
  return type;
}

const LABEL: Record<string, string> = { contacts: 'Contact', companies: 'Company' };
export const label = (type: string) => LABEL[type] ?? type.replace(/s$/, '').toUpperCase();

export function publicObject(o: StoredObject, traceId?: string, extra: Record<string, unknown> = {}) {
  return {
    id: o.id,
    properties: { ...o.properties },
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    archived: o.archived,
    ...(traceId ? { objectWriteTraceId: traceId } : {}),
    ...extra,
  };
}

export function uniqueProperty(ctx: RouteContext, type: string, name: string): void {
  const definition = ctx.store.properties[type]?.find((p) => p.name === name);
  if (!definition?.hasUniqueValue) {
    throw badRequest(
      `Unable to perform update/upsert by non-unique ${ctx.store.objectTypeId(type)} property ${name} in portal ID 1`,
    );
  }
}
