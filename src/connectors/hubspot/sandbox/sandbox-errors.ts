import { randomUUID } from 'node:crypto';

/**
 * HubSpot's error answers, shaped as HubSpot sends them (the `Error` schema of its OpenAPI
 * documents; 429 bodies as in https://developers.hubspot.com/docs/api/usage-details).
 */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? status));
  }
}

export function errorBody(
  category: string,
  message: string,
  extra: { context?: Record<string, string[]>; errors?: unknown[]; subCategory?: string } = {},
): Record<string, unknown> {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

export interface PropertyProblem {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
}

export function problem(name: string, error: string, message: string): PropertyProblem {
  return { isValid: false, message, error, name, localizedErrorMessage: message };
}

/** HubSpot's whole-batch VALIDATION_ERROR: the property problems as JSON inside the message. */
export function propertyValidationError(problems: PropertyProblem[]): SandboxHttpError {
  return new SandboxHttpError(
    400,
    errorBody('VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(problems)}`),
  );
}

export function conflictError(objectLabel: string, existingId: string): SandboxHttpError {
  return new SandboxHttpError(
    409,
    errorBody('CONFLICT', `${objectLabel} already exists. Existing ID: ${existingId}`),
  );
}

export function notFound(message: string, context?: Record<string, string[]>): SandboxHttpError {
  return new SandboxHttpError(404, errorBody('OBJECT_NOT_FOUND', message, context ? { context } : {}));
}

export function badRequest(message: string): SandboxHttpError {
  return new SandboxHttpError(400, errorBody('VALIDATION_ERROR', message));
}
