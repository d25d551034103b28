import type { z } from 'zod';
import type { CrmEvent } from '../events/envelope.js';
import type { EntityType, EventType } from '../events/event-types.js';
import type { Logger } from '../logging/logger.js';
import type { MappingsInput } from '../mappings/schema.js';
import type { ConnectorError } from './errors.js';

/** `NOOP` accepts everything and calls nothing: benchmarks and dry runs. */
export const PROVIDERS = ['HUBSPOT', 'MAILCHIMP', 'SLACK', 'SEGMENT', 'WEBHOOK', 'NOOP'] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * What the engine asks a connector to do with one record. Derived from the event type
 * (`operationFor` in the engine); a connector that does not support an operation on a contact
 * gets the contact snapshot as an `upsert` instead (a tag event is a contact change too).
 */
/** The payload key that carries a list membership's provider list (see `PushRecord.payload`). */
export const LIST_TARGET_KEY = '$listTarget';

export const OPERATIONS = [
  'upsert',
  'archive',
  'merge',
  'tag_add',
  'tag_remove',
  'associate',
  'dissociate',
  'activity',
  'list_add',
  'list_remove',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface RateLimit {
  /** Requests allowed per `perMs` window, per provider account, across every worker process. */
  max: number;
  perMs: number;
  /** Most requests in flight at once (Mailchimp: 10 connections per account). */
  maxConcurrent?: number | undefined;
}

/** One record in a push batch. */
export interface PushRecord {
  /** Unique within the batch; results are matched back by position, this is for logs. */
  key: string;
  operation: Operation;
  entityType: EntityType;
  entityId: string;
  /** The provider's id from the link, when the record was synced before. */
  externalId: string | null;
  /**
   * The mapped payload (provider field → value) for this integration. `$`-keys are engine
   * instructions, never provider fields: `$listTarget` carries the `mappings.lists` target of a
   * list membership (a provider list id or name), absent when the integration maps no lists (the
   * connector's own default applies).
   */
  payload: Record<string, unknown>;
  /** Per-record state the connector stored on the link last time (`PushOk.state`). */
  state: Record<string, unknown>;
  /** The event that caused the push (its snapshot, type, ids). */
  event: CrmEvent;
  /**
   * An earlier attempt of this record may have reached the provider: it failed after sending (a
   * timeout, a lost answer), it is a dead letter's replay, or its job runs again after the engine
   * failed mid-job. A connector whose write is not idempotent (a note, an event) looks before it
   * writes again.
   */
  retried?: boolean | undefined;
}

export interface PushOk {
  status: 'ok';
  /** The provider's id for the record; null when the provider has none (a webhook delivery). */
  externalId: string | null;
  /** Replaces the link's state (e.g. the tags the CRM owns at Mailchimp). */
  state?: Record<string, unknown> | undefined;
  /** Merges: the loser's link is re-pointed or removed by the engine. */
  mergedFrom?: { entityId: string } | undefined;
  /** Records the connector linked besides this one (a company created for an association). */
  extraLinks?: { entityType: EntityType; entityId: string; externalId: string }[] | undefined;
}
export interface PushSkipped {
  status: 'skipped';
  reason: string;
}
export interface PushFailed {
  status: 'error';
  error: ConnectorError;
}
export type PushResult = PushOk | PushSkipped | PushFailed;

export interface FieldDescriptor {
  name: string;
  label?: string | undefined;
  type: 'string' | 'number' | 'boolean' | 'date' | 'datetime' | 'enumeration' | 'phone' | 'address' | 'json';
  /** Allowed values for enumerations, when the provider restricts them. */
  options?: string[] | undefined;
  readOnly?: boolean | undefined;
  required?: boolean | undefined;
}

/**
 * What a connector says of a push target its field catalog lacks: `accepted` when it copes with
 * it (creates the field at the first push, or leaves it out while it is absent), and how, in
 * words for the admin; otherwise why it cannot, and what would fix it.
 */
export interface MissingFieldVerdict {
  accepted: boolean;
  note: string;
}

export interface CheckResult {
  ok: boolean;
  /** Who the credentials belong to (portal id, account name), for the operator. */
  account?: string | undefined;
  message?: string | undefined;
}

/**
 * How a connector sends one provider request: it waits for the account's shared rate budget
 * (`kind` picks an extra budget, e.g. HubSpot search), and on a `RateLimitedError` pauses the
 * account's limiter for every process before trying again.
 */
export type ProviderRequest = <T>(
  call: () => Promise<T>,
  options?: { priority?: 'live' | 'bulk'; kind?: string },
) => Promise<T>;

/**
 * The engine's services a connector client uses. `request` (or, inside `push`, the request the
 * push was given) is the only way a connector talks to its provider.
 */
export interface ConnectorContext<Settings, Credentials> {
  integration: { id: string; key: string; organizationId: string; name: string };
  settings: Settings;
  credentials: Credentials;
  logger: Logger;
  /** For work outside a push (check, field catalog, pull): live priority unless told. */
  request: ProviderRequest;
  /**
   * Tells the engine what the provider said about the account's remaining daily quota (HubSpot's
   * `X-HubSpot-RateLimit-Daily-Remaining`), so bulk work yields to live changes when it runs low.
   */
  /**
   * The link of another CRM record for this integration (the contact an activity belongs to, a
   * merge's loser, an association's company): its provider id and the state stored with it.
   */
  lookupLink?(
    entityType: EntityType,
    entityId: string,
  ): Promise<{ externalId: string | null; state: Record<string, unknown> } | null>;
  reportQuota?(quota: { dailyMax: number; dailyRemaining: number; resetsAt?: Date | undefined }): void;
}

export interface ConnectorClient {
  check(): Promise<CheckResult>;
  describeFields(entityType: EntityType): Promise<FieldDescriptor[]>;
  /**
   * Consulted by the field check (`integrations apply`, `test`) for a push target `describeFields`
   * does not list. Without it, or when it answers undefined, such a target is an error.
   */
  explainMissingField?(entityType: EntityType, target: string): MissingFieldVerdict | undefined;
  /**
   * One result per record, in the batch's order. Throws only when the whole batch failed.
   *
   * Every provider request the push makes, including those of shared caches it fills on the
   * way, goes through `request`: the engine counts them against this push (`sync_log.api_calls`)
   * and gives them its priority. The engine always passes it; without it (a connector's own
   * tests) `ctx.request` is used. It is passed, not found through AsyncLocalStorage, because on
   * Node 20 that turns on promise hooks for every promise of the process: 14% of the
   * pipeline's CPU (docs/benchmarks.md).
   */
  push(batch: PushRecord[], request?: ProviderRequest): Promise<PushResult[]>;
  /**
   * Reads ahead what the first push would otherwise wait for (Mailchimp: the audience's merge
   * fields), so that a burst's first batch does not pay for it. Called by the sync worker, once per
   * runtime; its requests go through `ctx.request` and belong to no push. A failure is only
   * logged: the first push reads what it needs itself.
   */
  warmUp?(): Promise<void>;
  close?(): Promise<void>;
}

export interface ConnectorDefinition<S extends z.ZodType = z.ZodType, C extends z.ZodType = z.ZodType> {
  provider: Provider;
  displayName: string;
  settings: S;
  credentials: C;
  rateLimit: RateLimit;
  /**
   * Separate budgets for kinds of request (`ctx.request(call, { kind: 'search' })`), e.g. HubSpot's
   * search API with its own per-second limit. Requests of other kinds use `rateLimit` only.
   */
  extraRateLimits?: Record<string, RateLimit> | undefined;
  /**
   * Snapshot fields the connector reads itself, outside the mapping (Mailchimp: `tags`): the
   * sync hash covers them too, so a change to only them is pushed rather than skipped.
   */
  hashedSnapshotFields?: readonly string[] | undefined;
  /** Most records in one `push` call (HubSpot 100, Mailchimp 500). */
  batchSize: number;
  /** How long the micro-batcher waits for more records before flushing a partial batch. */
  batchWindowMs?: number | undefined;
  capabilities: {
    push: Partial<Record<EntityType, Operation[]>>;
    pull?: EntityType[] | undefined;
  };
  /** Used when an integration gives no mapping for an entity. */
  defaultMappings?: MappingsInput | undefined;
  /** Event types subscribed when an integration lists none. */
  defaultEvents?: EventType[] | undefined;
  /**
   * Identifies the provider account, so integrations of one account share one rate budget
   * (e.g. a hash of the access token). Must not return the secret itself.
   */
  accountKey(settings: z.infer<S>, credentials: z.infer<C>): string;
  /**
   * For providers whose credentials do not name the account (Mailchimp: each user of an account
   * has API keys of their own, so a digest of one names a user): the provider request that does,
   * answering the account key to use instead of `accountKey`'s. Null when the settings already
   * name the account (`accountKey` is then final). The engine runs it when it builds a runtime and
   * keeps its answer in Redis under `accountKey`'s value; a failure is a `ConnectorError` carrying
   * no secret, whose kind the engine acts on (docs/rate-limiting.md, "Account keys").
   */
  accountLookup?(settings: z.infer<S>, credentials: z.infer<C>): (() => Promise<string>) | null;
  createClient(ctx: ConnectorContext<z.infer<S>, z.infer<C>>): ConnectorClient;
}

/** Declares a connector. Returns its argument: declarations are data, checked by the compiler. */
export function defineConnector<S extends z.ZodType, C extends z.ZodType>(
  definition: ConnectorDefinition<S, C>,
): ConnectorDefinition<S, C> {
  return definition;
}
