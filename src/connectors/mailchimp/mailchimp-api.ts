import type { z } from 'zod';
import { type ConnectorError, isConnectorError, RetryableError } from '../errors.js';
import type { ProviderRequest } from '../types.js';
import { readBatchResults } from './batch-results.js';
import { type ClassifyOptions, classifyHttpFailure } from './error-table.js';
import { isHttpLikeError, toHttpFailure } from './http-failure.js';
import { readAllPages } from './read-pages.js';
import { redactSecrets } from './redact-secrets.js';
import {
  ApiRootAnswer,
  type BatchStatus,
  BatchStatus as BatchStatusSchema,
  type BatchSubscribeAnswer,
  BatchSubscribeAnswer as BatchSubscribeAnswerSchema,
  ListAnswer,
  type Member,
  type MemberEventsAnswer,
  MemberEventsAnswer as MemberEventsAnswerSchema,
  type MemberNotesAnswer,
  MemberNotesAnswer as MemberNotesAnswerSchema,
  Member as MemberSchema,
  type MergeField,
  MergeField as MergeFieldSchema,
  MergeFieldsAnswer,
  NoteAnswer,
  type Segment,
  type SegmentMembersAnswer,
  SegmentMembersAnswer as SegmentMembersAnswerSchema,
  Segment as SegmentSchema,
  SegmentsAnswer,
} from './responses.js';
import type { MailchimpSdk } from './sdk-client.js';

/**
 * One operation of a batch (POST /batches): `path` below /3.0, `params` its query (how the API
 * reference passes `fields`), `body` the JSON as text.
 */
export interface BatchOperation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  params?: Record<string, string>;
  body?: string;
  operation_id: string;
}

/** A batch operation's outcome: the validated answer, or its classified error. */
export type OperationOutcome<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      error: ConnectorError;
      /**
       * The run failed as a whole and Mailchimp may still apply this operation later: the
       * submit's answer was lost (so there is no batch id to cancel), or the cancel failed.
       */
      mayStillApply?: boolean;
    };

export interface MemberTag {
  name: string;
  status: 'active' | 'inactive';
}

/**
 * Every Mailchimp call the connector makes, one method per HTTP request, each sent through the
 * engine's `request` (shared rate budget, counting) and answered with validated data or a
 * classified error. A member's path segment is its subscriber hash or, once linked, its
 * `contact_id` (the API accepts both): hex either way, so the SDK's `buildUrl` rewrite of
 * "server" (PROVIDERS.md) can never touch a path, as it could an email address.
 */
export interface MailchimpApi {
  listId: string;
  /** GET /?fields=account_id: the account the key belongs to (what its rate budget is per). */
  getAccountId(): Promise<string>;
  getList(): Promise<{ id: string; name: string }>;
  /** Every page of GET …/merge-fields (one request each). */
  getMergeFields(): Promise<MergeField[]>;
  addMergeField(field: { tag: string; name: string; type: string }): Promise<MergeField>;
  /** POST /lists/{id}: up to 500 members; never with `update_existing` (see push-members.ts). */
  batchSubscribe(body: Record<string, unknown>): Promise<BatchSubscribeAnswer>;
  /** PUT …/members/{hash}: creates with `status_if_new`, else updates without touching status. */
  putMember(hash: string, body: Record<string, unknown>): Promise<Member>;
  /** PATCH …/members/{ref}: updates a member, never creates one; how an address changes. */
  patchMember(ref: string, body: Record<string, unknown>): Promise<Member>;
  /** GET …/members/{ref}, only what the connector reads (id, address, status, tags). */
  getMember(ref: string): Promise<Member>;
  archiveMember(ref: string): Promise<void>;
  deleteMemberPermanently(ref: string): Promise<void>;
  updateTags(ref: string, tags: MemberTag[]): Promise<void>;
  addNote(ref: string, note: string): Promise<{ id: string }>;
  addEvent(ref: string, body: Record<string, unknown>): Promise<void>;
  /** One page of GET …/members/{ref}/notes; `query` in the API's names (activity-lookup.ts). */
  memberNotes(ref: string, query: Readonly<Record<string, string | number>>): Promise<MemberNotesAnswer>;
  /** One page of GET …/members/{ref}/events; `query` in the API's names (activity-lookup.ts). */
  memberEvents(ref: string, query: Readonly<Record<string, string | number>>): Promise<MemberEventsAnswer>;
  /** Every page of GET …/segments?type=static (one request each): every tag, too. */
  staticSegments(): Promise<Segment[]>;
  createStaticSegment(name: string): Promise<Segment>;
  /** POST /batches: Mailchimp runs the operations later, on its side; one request. */
  submitBatch(operations: BatchOperation[]): Promise<BatchStatus>;
  /** GET /batches/{id}. */
  batchStatus(id: string): Promise<BatchStatus>;
  /** DELETE /batches/{id}: stops a run that has not finished (its operations not yet run). */
  cancelBatch(id: string): Promise<void>;
  /**
   * A finished batch's results, by operation id: each answer validated with `schema` (as a
   * direct request's would be), each failure classified as a direct request's would be. The
   * archive link is pre-signed: no credentials are sent to it.
   */
  batchOutcomes<S extends z.ZodType>(
    resultsUrl: string,
    schema: S,
    classify: ClassifyOptions,
  ): Promise<Map<string, OperationOutcome<z.infer<S>>>>;
  updateSegmentMembers(
    segmentId: string,
    body: { members_to_add: string[]; members_to_remove: string[] },
  ): Promise<SegmentMembersAnswer>;
}

export function createMailchimpApi(deps: {
  sdk: MailchimpSdk;
  listId: string;
  request: ProviderRequest;
  /** Strings that must never leave in an error (the key and its Basic-auth form). */
  secrets: readonly string[];
}): MailchimpApi {
  const { sdk, listId, request, secrets } = deps;

  const translate = (error: unknown, options: ClassifyOptions): ConnectorError => {
    if (isConnectorError(error)) return error;
    if (isHttpLikeError(error)) {
      const classified = classifyHttpFailure(toHttpFailure(error), options);
      return redactBody(classified, secrets);
    }
    // A dropped connection without a code, or the SDK's own argument checks: retry, so nothing is lost.
    const message = error instanceof Error ? error.message : String(error);
    return new RetryableError(redactSecrets(`Mailchimp ${options.operation} failed: ${message}`, secrets));
  };

  async function call<S extends z.ZodType>(
    kind: string,
    options: ClassifyOptions,
    run: () => Promise<unknown>,
    schema: S,
  ): Promise<z.infer<S>> {
    return request(
      async () => {
        let answer: unknown;
        try {
          answer = await run();
        } catch (error) {
          throw translate(error, options);
        }
        const parsed = schema.safeParse(answer);
        if (!parsed.success) {
          const where = parsed.error.issues
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ');
          throw new RetryableError(
            `Mailchimp ${options.operation} gave an answer of unexpected shape: ${where}`,
            {
              code: 'UNEXPECTED_ANSWER',
            },
          );
        }
        return parsed.data;
      },
      { kind },
    );
  }

  const nothing = {
    safeParse: () => ({ success: true as const, data: undefined }),
  } as unknown as z.ZodType<void>;
  const onAudience = (operation: string): ClassifyOptions => ({ operation, notFound: 'config' });
  // A member that is not (yet) in the audience: its contact's own sync may still be on the way.
  const onMember = (operation: string): ClassifyOptions => ({ operation, notFound: 'retryable' });

  return {
    listId,
    getAccountId: async () => {
      const root = await call(
        'read',
        { operation: 'GET API root', notFound: 'config' },
        () => sdk.root.getRoot({ fields: ['account_id'] }),
        ApiRootAnswer,
      );
      return root.account_id;
    },
    getList: () =>
      call(
        'read',
        onAudience('GET audience'),
        () => sdk.lists.getList(listId, { fields: ['id', 'name'] }),
        ListAnswer,
      ),
    getMergeFields: () =>
      readAllPages(async (count, offset) => {
        const page = await call(
          'read',
          onAudience('GET merge fields'),
          () => sdk.lists.getListMergeFields(listId, { count, offset }),
          MergeFieldsAnswer,
        );
        return { items: page.merge_fields, total: page.total_items };
      }),
    addMergeField: (field) =>
      call(
        'write',
        onAudience('POST merge field'),
        () => sdk.lists.addListMergeField(listId, { ...field, required: false, public: false }),
        MergeFieldSchema,
      ),
    batchSubscribe: (body) =>
      call(
        'batch_subscribe',
        onAudience('batch subscribe'),
        () => sdk.lists.batchListMembers(listId, body),
        BatchSubscribeAnswerSchema,
      ),
    putMember: (hash, body) =>
      call(
        'member',
        onAudience('PUT member'),
        () => sdk.lists.setListMember(listId, hash, body),
        MemberSchema,
      ),
    patchMember: (ref, body) =>
      call(
        'member',
        { operation: 'PATCH member', notFound: 'permanent' },
        () => sdk.lists.updateListMember(listId, ref, body),
        MemberSchema,
      ),
    getMember: (ref) =>
      call(
        'read',
        { operation: 'GET member', notFound: 'permanent' },
        () =>
          sdk.lists.getListMember(listId, ref, {
            fields: ['id', 'email_address', 'contact_id', 'status', 'last_changed', 'tags'],
          }),
        MemberSchema,
      ),
    archiveMember: (hash) =>
      call(
        'member',
        { operation: 'DELETE member', notFound: 'permanent' },
        () => sdk.lists.deleteListMember(listId, hash),
        nothing,
      ),
    deleteMemberPermanently: (hash) =>
      call(
        'member',
        { operation: 'delete-permanent member', notFound: 'permanent' },
        () => sdk.lists.deleteListMemberPermanent(listId, hash),
        nothing,
      ),
    updateTags: (hash, tags) =>
      call(
        'member',
        onMember('POST member tags'),
        () => sdk.lists.updateListMemberTags(listId, hash, { tags }),
        nothing,
      ),
    addNote: (hash, note) =>
      call(
        'member',
        onMember('POST member note'),
        () => sdk.lists.createListMemberNote(listId, hash, { note }),
        NoteAnswer,
      ),
    addEvent: (hash, body) =>
      call(
        'member',
        onMember('POST member event'),
        () => sdk.lists.createListMemberEvent(listId, hash, body),
        nothing,
      ),
    memberNotes: (ref, query) =>
      call(
        'read',
        onMember('GET member notes'),
        () => sdk.lists.getListMemberNotes(listId, ref, { ...query }),
        MemberNotesAnswerSchema,
      ),
    memberEvents: (ref, query) =>
      call(
        'read',
        onMember('GET member events'),
        () => sdk.lists.getListMemberEvents(listId, ref, { ...query }),
        MemberEventsAnswerSchema,
      ),
    staticSegments: () =>
      readAllPages(async (count, offset) => {
        const page = await call(
          'read',
          onAudience('GET segments'),
          () => sdk.lists.listSegments(listId, { type: 'static', count, offset }),
          SegmentsAnswer,
        );
        return { items: page.segments, total: page.total_items };
      }),
    createStaticSegment: (name) =>
      call(
        'write',
        onAudience('POST segment'),
        () => sdk.lists.createSegment(listId, { name, static_segment: [] }),
        SegmentSchema,
      ),
    submitBatch: (operations) =>
      call('batch', onAudience('POST batches'), () => sdk.batches.start({ operations }), BatchStatusSchema),
    batchStatus: (id) =>
      call(
        'read',
        { operation: 'GET batch', notFound: 'retryable' },
        () => sdk.batches.status(id),
        BatchStatusSchema,
      ),
    cancelBatch: (id) =>
      call(
        'batch',
        { operation: 'DELETE batch', notFound: 'permanent' },
        () => sdk.batches.deleteRequest(id),
        nothing,
      ),
    batchOutcomes: async (resultsUrl, schema, classify) => {
      const { operation } = classify;
      if (!/^https?:\/\//i.test(resultsUrl))
        throw new RetryableError(
          `Mailchimp gave a batch results link that is not http(s): ${resultsUrl.slice(0, 80)}`,
        );
      const archive = await request(
        async () => {
          let answer: Response;
          try {
            // Plain fetch, not the SDK: the link points outside the API (a pre-signed download)
            // and must not receive the key.
            answer = await fetch(resultsUrl, { signal: AbortSignal.timeout(sdk.timeout) });
          } catch (error) {
            throw new RetryableError(`Mailchimp batch results download failed: ${(error as Error).message}`, {
              code: 'BATCH_RESULTS_UNREADABLE',
            });
          }
          if (!answer.ok)
            throw new RetryableError(`Mailchimp batch results download answered ${answer.status}`, {
              code: 'BATCH_RESULTS_UNREADABLE',
              status: answer.status,
            });
          return Buffer.from(await answer.arrayBuffer());
        },
        { kind: 'read' },
      );
      let results: Awaited<ReturnType<typeof readBatchResults>>;
      try {
        results = await readBatchResults(archive);
      } catch (error) {
        throw new RetryableError(`Mailchimp batch results could not be read: ${(error as Error).message}`, {
          code: 'BATCH_RESULTS_UNREADABLE',
        });
      }
      const outcomes = new Map<string, OperationOutcome<z.infer<typeof schema>>>();
      for (const result of results) {
        if (!result.operation_id) continue;
        let body: unknown;
        try {
          body = result.response === '' ? {} : JSON.parse(result.response);
        } catch {
          body = undefined;
        }
        if (result.status_code >= 400) {
          // The same classification a direct answer gets: a superagent-shaped failure.
          const failure = { response: { status: result.status_code, body, text: result.response } };
          outcomes.set(result.operation_id, {
            ok: false,
            error: translate(failure, classify),
          });
          continue;
        }
        const parsed = schema.safeParse(body);
        outcomes.set(
          result.operation_id,
          parsed.success
            ? { ok: true, value: parsed.data }
            : {
                ok: false,
                error: new RetryableError(
                  `Mailchimp ${operation} (in a batch) gave an answer of unexpected shape`,
                  {
                    code: 'UNEXPECTED_ANSWER',
                  },
                ),
              },
        );
      }
      return outcomes;
    },
    updateSegmentMembers: (segmentId, body) =>
      call(
        'write',
        onAudience('POST segment members'),
        () => sdk.lists.batchSegmentMembers(body, listId, segmentId),
        SegmentMembersAnswerSchema,
      ),
  };
}

function redactBody(error: ConnectorError, secrets: readonly string[]): ConnectorError {
  const body = redactSecrets(error.body, secrets);
  const message = redactSecrets(error.message, secrets);
  if (body === error.body && message === error.message) return error;
  Object.assign(error, { body, message });
  return error;
}
