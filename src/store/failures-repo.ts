import type { ErrorKind } from '../connectors/errors.js';
import { redact, redactString } from './redact.js';

/**
 * The dead-letter store (`crm_sync.sync_failures`): malformed events (stage `ingest`) and records
 * that failed permanently or ran out of retries (stage `sync`). One open row per failure key: a
 * record that fails again updates its row, so the store counts problems, not attempts.
 *
 * Everything stored passes through `redact` first.
 */

/** Anything with pg's `query`: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export type FailureStage = 'ingest' | 'sync';
export type FailureStatus = 'open' | 'replaying' | 'replayed' | 'discarded';
/** The connector kinds, plus `validation` (a malformed event) and `internal` (our own code failed). */
export type FailureErrorKind = ErrorKind | 'validation' | 'internal';

export interface FailureInput {
  /** Identity of the problem: `ingest:<event id>`, or e.g. `sync:<integration>:<entity>` for the engine. */
  failureKey: string;
  stage: FailureStage;
  integrationId?: string | null;
  entityType?: string | null;
  entityId?: string | null;
  eventId?: string | null;
  eventType?: string | null;
  /** The event as received (the raw payload for malformed events). */
  event?: unknown;
  errorKind: FailureErrorKind;
  errorCode?: string | null;
  errorMessage: string;
  errorDetails?: unknown;
  providerStatus?: number | null;
  /** Total attempts so far; when left out, a new row starts at 1 and an update adds 1. */
  attempts?: number;
}

export interface FailureRow {
  id: number;
  failureKey: string;
  stage: FailureStage;
  integrationId: string | null;
  entityType: string | null;
  entityId: string | null;
  eventId: string | null;
  eventType: string | null;
  event: unknown;
  errorKind: string;
  errorCode: string | null;
  errorMessage: string;
  errorDetails: unknown;
  providerStatus: number | null;
  attempts: number;
  status: FailureStatus;
  replayCount: number;
  replayedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FailureFilter {
  integrationId?: string;
  status?: FailureStatus;
  stage?: FailureStage;
  /** Failures last updated at or after this time. */
  since?: Date;
  code?: string;
  limit?: number;
  offset?: number;
}

const COLUMNS = `id, failure_key, stage, integration_id, entity_type, entity_id, event_id, event_type, event,
  error_kind, error_code, error_message, error_details, provider_status, attempts, status, replay_count,
  replayed_at, created_at, updated_at`;

/**
 * Inserts a dead letter, or updates the open one with the same key (latest event and error,
 * attempts + 1 unless given). Returns the row id.
 *
 * @example
 * await recordFailure(db, { failureKey: 'ingest:evt_1', stage: 'ingest', errorKind: 'validation',
 *   errorMessage: 'occurredAt: Invalid ISO datetime', event: raw });
 */
export async function recordFailure(db: Queryable, input: FailureInput): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO crm_sync.sync_failures AS f
       (failure_key, stage, integration_id, entity_type, entity_id, event_id, event_type, event,
        error_kind, error_code, error_message, error_details, provider_status, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12::jsonb, $13, COALESCE($14, 1))
     ON CONFLICT (failure_key) WHERE status IN ('open', 'replaying') DO UPDATE SET
       integration_id  = COALESCE(EXCLUDED.integration_id, f.integration_id),
       entity_type     = COALESCE(EXCLUDED.entity_type, f.entity_type),
       entity_id       = COALESCE(EXCLUDED.entity_id, f.entity_id),
       event_id        = COALESCE(EXCLUDED.event_id, f.event_id),
       event_type      = COALESCE(EXCLUDED.event_type, f.event_type),
       event           = COALESCE(EXCLUDED.event, f.event),
       error_kind      = EXCLUDED.error_kind,
       error_code      = EXCLUDED.error_code,
       error_message   = EXCLUDED.error_message,
       error_details   = EXCLUDED.error_details,
       provider_status = EXCLUDED.provider_status,
       attempts        = COALESCE($14, f.attempts + 1),
       -- a replay that failed again is an open problem again
       status          = 'open',
       updated_at      = now()
     RETURNING id`,
    [
      text(input.failureKey),
      input.stage,
      input.integrationId ?? null,
      nullableText(input.entityType),
      nullableText(input.entityId),
      nullableText(input.eventId),
      nullableText(input.eventType),
      jsonb(input.event),
      input.errorKind,
      nullableText(input.errorCode),
      text(redactString(input.errorMessage)),
      jsonb(input.errorDetails),
      input.providerStatus ?? null,
      input.attempts ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function getFailure(db: Queryable, id: number): Promise<FailureRow | null> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM crm_sync.sync_failures WHERE id = $1`, [id]);
  return rows[0] ? toFailureRow(rows[0]) : null;
}

/** Newest first. `limit` defaults to 50 and is capped at 1000. */
export async function listFailures(db: Queryable, filter: FailureFilter = {}): Promise<FailureRow[]> {
  const { where, values } = whereClause(filter);
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
  const offset = Math.max(filter.offset ?? 0, 0);
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM crm_sync.sync_failures ${where}
     ORDER BY updated_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`,
    values,
  );
  return rows.map(toFailureRow);
}

export async function countFailures(
  db: Queryable,
  filter: Omit<FailureFilter, 'limit' | 'offset'> = {},
): Promise<number> {
  const { where, values } = whereClause(filter);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM crm_sync.sync_failures ${where}`,
    values,
  );
  return rows[0]!.n;
}

/** Claims an open failure for a replay; null when it is not open (already replaying, replayed, gone). */
export function markReplaying(db: Queryable, id: number): Promise<FailureRow | null> {
  return transition(db, id, ['open'], `status = 'replaying'`);
}

/** The replay went through: the failure is closed, and a new failure with its key opens a new row. */
export function markReplayed(db: Queryable, id: number): Promise<FailureRow | null> {
  return transition(
    db,
    id,
    ['open', 'replaying'],
    `status = 'replayed', replay_count = replay_count + 1, replayed_at = now()`,
  );
}

/** An operator gave up on it; kept for the record. */
export function markDiscarded(db: Queryable, id: number): Promise<FailureRow | null> {
  return transition(db, id, ['open', 'replaying'], `status = 'discarded'`);
}

async function transition(
  db: Queryable,
  id: number,
  from: FailureStatus[],
  set: string,
): Promise<FailureRow | null> {
  const { rows } = await db.query(
    `UPDATE crm_sync.sync_failures SET ${set}, updated_at = now()
     WHERE id = $1 AND status = ANY($2::text[]) RETURNING ${COLUMNS}`,
    [id, from],
  );
  return rows[0] ? toFailureRow(rows[0]) : null;
}

function whereClause(filter: FailureFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    conditions.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.integrationId !== undefined) add('integration_id = ?', filter.integrationId);
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.stage !== undefined) add('stage = ?', filter.stage);
  if (filter.since !== undefined) add('updated_at >= ?', filter.since);
  if (filter.code !== undefined) add('error_code = ?', filter.code);
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

function toFailureRow(r: Record<string, unknown>): FailureRow {
  return {
    id: r.id as number,
    failureKey: r.failure_key as string,
    stage: r.stage as FailureStage,
    integrationId: r.integration_id as string | null,
    entityType: r.entity_type as string | null,
    entityId: r.entity_id as string | null,
    eventId: r.event_id as string | null,
    eventType: r.event_type as string | null,
    event: r.event,
    errorKind: r.error_kind as string,
    errorCode: r.error_code as string | null,
    errorMessage: r.error_message as string,
    errorDetails: r.error_details,
    providerStatus: r.provider_status as number | null,
    attempts: r.attempts as number,
    status: r.status as FailureStatus,
    replayCount: r.replay_count as number,
    replayedAt: r.replayed_at as Date | null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

// Postgres text and jsonb refuse U+0000, which a malformed payload may well contain; losing the
// dead letter over it would lose the very evidence the store exists for.
function text(value: string): string {
  return value.replaceAll('\u0000', '\uFFFD');
}

function nullableText(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : text(value);
}

/** Always serialised here: pg would send a JS array as a Postgres array and a string as bare text. */
function jsonb(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(redact(value)).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');
}
