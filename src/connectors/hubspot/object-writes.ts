import type { PublicAssociationsForObject } from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import { type ConnectorError, PermanentError } from '../errors.js';
import { type Settled, sendIsolating } from './batch-isolation.js';
import { type BatchErrorItem, matchBatchAnswer, type ResultObject } from './batch-results.js';
import { errorBodyOf } from './hubspot-answer.js';
import type { HubSpotCaller } from './hubspot-api.js';
import { attributeFindings, findingsOf } from './validation-findings.js';

/** The CRM object types this connector writes, by their v3 API names. */
export type ObjectType = 'contacts' | 'companies' | 'notes' | 'calls' | 'meetings' | 'emails' | 'tasks';

export interface IdWrite {
  traceId: string;
  id: string;
  properties: Record<string, string>;
}

export interface CreateWrite {
  traceId: string;
  properties: Record<string, string>;
  associations: PublicAssociationsForObject[];
  matchKey?: string | undefined;
}

/** The code a stale link's update fails with: the caller falls back to matching by email/domain. */
export const STALE_LINK = 'OBJECT_NOT_FOUND';

/** A record HubSpot refused, as the dead letter should read: HubSpot's category and its words. */
export function rejectedInput(error: ConnectorError, detail: string, code?: string): PermanentError {
  const body = error.body && typeof error.body === 'object' ? error.body : {};
  return new PermanentError(`${error.message.split(':')[0]}: ${detail}`, {
    status: error.status,
    code: code ?? error.code,
    body,
  });
}

/** Blames the inputs a VALIDATION_ERROR names by property and value (see validation-findings.ts). */
export function blameValidation<I extends { properties: Record<string, string> }, R>(
  error: ConnectorError,
  items: I[],
): Map<number, Settled<R>> | null {
  if (error.code !== 'VALIDATION_ERROR') return null;
  const findings = findingsOf(errorBodyOf(error));
  const blamed = attributeFindings(findings, items);
  if (!blamed) return null;
  return new Map(
    [...blamed].map(([index, finding]) => [
      index,
      {
        error: rejectedInput(
          error,
          `VALIDATION_ERROR: property "${finding.property}" (${finding.code}): ${finding.message}`,
        ),
      },
    ]),
  );
}

/** `POST /crm/v3/objects/{type}/batch/update`, isolating bad inputs and stale ids. */
export function updateById(
  api: HubSpotCaller,
  type: ObjectType,
  items: IdWrite[],
): Promise<Settled<ResultObject>[]> {
  const what = `${type} batch update`;
  return sendIsolating<IdWrite, ResultObject>(items, {
    async send(batch) {
      const { data } = await api.call({ what }, (o) =>
        api.sdk.objects.updateWithHttpInfo(
          type,
          {
            inputs: batch.map((w) => ({ id: w.id, objectWriteTraceId: w.traceId, properties: w.properties })),
          },
          o,
        ),
      );
      return matchBatchAnswer(batch, { results: data.results, errors: errorsOf(data) }, { what });
    },
    async blame(error, batch) {
      if (error.code === STALE_LINK) {
        const ids = new Set(Object.values(bodyContext(error)).flat());
        const message = errorBodyOf(error)?.message ?? '';
        const gone = batch.flatMap((w, i) => (ids.has(w.id) || message.includes(w.id) ? [i] : []));
        if (gone.length === 0) return null;
        return new Map(
          gone.map((i) => [i, { error: rejectedInput(error, `record ${batch[i]?.id} no longer exists`) }]),
        );
      }
      return blameValidation(error, batch);
    },
  });
}

/** `POST /crm/v3/objects/{type}/batch/create` with objectWriteTraceIds, so HubSpot answers per input. */
export function createWithTraceIds(
  api: HubSpotCaller,
  type: ObjectType,
  items: CreateWrite[],
  matchProperty?: string,
): Promise<Settled<ResultObject>[]> {
  const what = `${type} batch create`;
  return sendIsolating<CreateWrite, ResultObject>(items, {
    async send(batch) {
      const { data } = await api.call({ what }, (o) =>
        api.sdk.objects.createWithHttpInfo(
          type,
          {
            inputs: batch.map((w) => ({
              objectWriteTraceId: w.traceId,
              properties: w.properties,
              associations: w.associations,
            })),
          },
          o,
        ),
      );
      return matchBatchAnswer(
        batch,
        { results: data.results, errors: errorsOf(data) },
        { what, matchProperty },
      );
    },
    blame: async (error, batch) => blameValidation(error, batch),
  });
}

/** `POST /crm/v3/objects/{type}/batch/archive`: HubSpot answers 204 and ignores unknown ids. */
export async function archiveByIds(api: HubSpotCaller, type: ObjectType, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await api.call({ what: `${type} batch archive` }, (o) =>
    api.sdk.objects.archiveWithHttpInfo(type, { inputs: ids.map((id) => ({ id })) }, o),
  );
}

export function errorsOf(data: object): BatchErrorItem[] | undefined {
  const errors = (data as { errors?: unknown }).errors;
  return Array.isArray(errors) ? (errors as BatchErrorItem[]) : undefined;
}

export function bodyContext(error: ConnectorError): Record<string, string[]> {
  return errorBodyOf(error)?.context ?? {};
}
