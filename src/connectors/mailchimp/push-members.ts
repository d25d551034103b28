import type { Contact } from '../../events/snapshots.js';
import { PermanentError, RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { runBatch } from './batch-run.js';
import { OPTIONAL_MERGE_FIELDS } from './default-mappings.js';
import { classifyBatchError } from './error-table.js';
import { type MemberLinkState, memberRef, memberStateOf, readMemberState } from './link-state.js';
import type { OperationOutcome } from './mailchimp-api.js';
import { draftMember, type MemberDraft, missingMergeTags } from './member-draft.js';
import { planTags } from './member-tags.js';
import { checkAudience, type PushContext, settle } from './push-context.js';
import { type Member, Member as MemberSchema } from './responses.js';
import { runPool } from './run-pool.js';
import { normalizeEmail } from './subscriber-hash.js';

/**
 * Creating and updating members — and never resubscribing anyone.
 *
 * Batch subscribe (POST /lists/{id}) takes a `status` per member, and with `update_existing: true`
 * it "will change existing members' subscription status" (API reference). The CRM does not know a
 * member's current status: the last status on the link may be minutes old, and an unsubscribe
 * may be on its way back. Sending any status to an existing member could resubscribe someone who
 * unsubscribed, send a cleaned address a confirmation mail (pending), or demote a subscriber to
 * transactional. So:
 * - records with no link go through batch subscribe with `update_existing: false`: new members are
 *   created with `statusIfNew` (500 per call); one that already exists comes back as
 *   ERROR_CONTACT_EXISTS and joins the next group;
 * - a linked member is written one by one with PATCH …/members/{contact_id}: the link's stable
 *   member id, so the write reaches the same member wherever its address went, and a PATCH never
 *   creates one. A member gone from the audience (permanently deleted, or moved away by a
 *   forget request) is a permanent MEMBER_GONE failure, never re-created: re-adding it at the
 *   CRM's address could subscribe someone who asked to leave. The address is sent only when the
 *   CRM changed it since the last push. A member crm-sync archived itself (deleteMode) whose
 *   contact comes back is restored to the status it had then, which Mailchimp's own compliance
 *   check still guards;
 * - a member that exists but has no link (batch subscribe answered ERROR_CONTACT_EXISTS) is
 *   written with PUT …/members/{hash} and `status_if_new` only, which Mailchimp applies to new
 *   members and ignores for existing ones, so their status stays whatever it is.
 * Creates, the bulk of a first sync, cost 1/500 of a call per member; updates of linked members
 * one call each, or, from `batchUpdatesFrom` of them in one push, one batch operation run
 * (`patchInBatch`).
 */
export interface MemberWrite {
  record: PushRecord;
  contact: Contact | null;
  /** Tags the CRM wants on the member; null when tags are not synced. */
  tags: string[] | null;
}

const BATCH_MAX = 500;

interface Existing {
  position: number;
  draft: MemberDraft;
  /** What the link remembers of the member; null for one found by its address. */
  linked: MemberLinkState | null;
  owned: string[];
  /** A linked member's CRM contact is active: only then may a member crm-sync archived be restored. */
  active: boolean;
}

export async function writeMembers(writes: readonly MemberWrite[], ctx: PushContext): Promise<PushResult[]> {
  const results: (PushResult | undefined)[] = new Array(writes.length);
  if (writes.length === 0) return [];
  const { listId } = ctx.settings;

  const missing = missingMergeTags(
    writes.map((w) => w.record.payload),
    await ctx.catalog.get(ctx.api),
  );
  const create = ctx.settings.createMissingMergeFields;
  // A stock audience lacks the default mapping's optional fields (LIFECYCLE, COMPANY): re-reading
  // the catalog for them would cost one more request per push. The catalog's own refresh
  // notices when an admin adds them.
  if (!create) for (const tag of OPTIONAL_MERGE_FIELDS) missing.delete(tag);
  const catalog = await ctx.catalog.ensure(missing, create, ctx.api);

  const fresh: { position: number; draft: MemberDraft }[] = [];
  const existing: Existing[] = [];
  const byHash = new Map<string, number>();
  writes.forEach((write, position) => {
    const outcome = draftMember(write.record.payload, write.contact?.email, catalog, listId);
    if (outcome.kind === 'skip') results[position] = { status: 'skipped', reason: outcome.reason };
    if (outcome.kind === 'error') results[position] = { status: 'error', error: outcome.error };
    if (outcome.kind !== 'draft') return;
    const { draft } = outcome;
    const twin = byHash.get(draft.hash);
    if (twin !== undefined) {
      results[position] = {
        status: 'error',
        error: new PermanentError(
          `${draft.email} is also the email of CRM contact ${writes[twin]?.record.entityId} in this batch; one Mailchimp member cannot stand for two contacts`,
          { code: 'DUPLICATE_EMAIL' },
        ),
      };
      return;
    }
    byHash.set(draft.hash, position);
    const linked = write.record.externalId ? readMemberState(write.record.state, listId) : null;
    if (linked) {
      existing.push({
        position,
        draft,
        linked,
        owned: linked.tags,
        active: write.contact?.status === 'ACTIVE',
      });
    } else {
      fresh.push({ position, draft });
    }
  });

  for (let start = 0; start < fresh.length; start += BATCH_MAX) {
    const chunk = fresh.slice(start, start + BATCH_MAX);
    const answer = await ctx.api.batchSubscribe({
      members: chunk.map(({ position, draft }) =>
        batchMember(draft, ctx.settings.statusIfNew, writes[position]?.tags),
      ),
      update_existing: false,
      sync_tags: false,
    });
    const written = new Map<string, Member>();
    for (const m of [...answer.new_members, ...answer.updated_members])
      written.set(normalizeEmail(m.email_address), m);
    const rejected = new Map(answer.errors.map((e) => [normalizeEmail(e.email_address ?? ''), e]));
    for (const { position, draft } of chunk) {
      const key = normalizeEmail(draft.email);
      const member = written.get(key);
      const error = rejected.get(key);
      if (member) {
        results[position] = ok(
          ctx,
          writes[position] as MemberWrite,
          member,
          writes[position]?.tags ?? [],
          draft,
        );
      } else if (error) {
        const outcome = classifyBatchError(error);
        // Not linked, so never one crm-sync archived: nothing to restore.
        if (outcome.outcome === 'exists')
          existing.push({ position, draft, linked: null, owned: [], active: false });
        else results[position] = { status: 'error', error: outcome.error };
      } else {
        results[position] = {
          status: 'error',
          error: new RetryableError(`Mailchimp's batch subscribe answer did not mention ${draft.email}`, {
            code: 'MISSING_FROM_ANSWER',
          }),
        };
      }
    }
  }

  const linkedWrites = existing.filter((item) => item.linked);
  const batched =
    ctx.settings.batchUpdatesFrom > 0 && linkedWrites.length >= ctx.settings.batchUpdatesFrom && !ctx.fatal
      ? await patchInBatch(ctx, linkedWrites)
      : null;

  await runPool(existing, async (item) => {
    const write = writes[item.position] as MemberWrite;
    results[item.position] = await settle(ctx, async () => {
      const outcome = batched?.get(item);
      const member = outcome
        ? await writeLinked(ctx, item, async () => {
            if (!outcome.ok) throw outcome.error;
            return outcome.value;
          })
        : await putExisting(ctx, item);
      let owned = item.owned;
      // An archived member takes no tag changes (Mailchimp answers 404); they follow when it is back.
      if (write.tags !== null && member.status !== 'archived') {
        const plan = planTags({ desired: write.tags, owned, present: member.tags?.map((t) => t.name) });
        if (plan.changes.length > 0) await ctx.api.updateTags(member.id, plan.changes);
        owned = plan.owned;
      }
      return ok(ctx, write, member, owned, item.draft);
    });
  });

  return results.map(
    (r) =>
      r ?? { status: 'error', error: new RetryableError('the record was not handled (a connector bug)') },
  );
}

function batchMember(draft: MemberDraft, status: string, tags: string[] | null | undefined) {
  return {
    email_address: draft.email,
    status,
    ...(Object.keys(draft.mergeFields).length > 0 ? { merge_fields: draft.mergeFields } : {}),
    ...(tags && tags.length > 0 ? { tags } : {}),
  };
}

const RESTORABLE = new Set(['subscribed', 'unsubscribed', 'pending', 'transactional']);
const COMPLIANCE = 'Member In Compliance State';

async function putExisting(ctx: PushContext, item: Existing): Promise<Member> {
  const { draft, linked } = item;
  if (!linked) {
    return ctx.api.putMember(draft.hash, {
      email_address: draft.email,
      status_if_new: ctx.settings.statusIfNew,
      ...fieldsOf(draft),
    });
  }
  return writeLinked(ctx, item, () => ctx.api.patchMember(memberRef(linked), linkedPatch(item)));
}

const fieldsOf = (draft: MemberDraft) =>
  Object.keys(draft.mergeFields).length > 0 ? { merge_fields: draft.mergeFields } : {};

/** The PATCH body for a linked member (see the module comment). */
function linkedPatch(item: Existing): Record<string, unknown> {
  const linked = item.linked as MemberLinkState;
  const lastPushed = normalizeEmail(linked.crmEmail ?? linked.email);
  const address = normalizeEmail(item.draft.email) !== lastPushed ? { email_address: item.draft.email } : {};
  return { ...address, ...fieldsOf(item.draft), ...restoreOf(item) };
}

// Only a member crm-sync archived comes back, and only for a contact that is active again (a
// replayed old update of an archived contact must not bring it back); one archived in Mailchimp
// by marketing stays so.
const restoreOf = (item: Existing): { status?: string } => {
  const linked = item.linked;
  return item.active &&
    linked?.status === 'archived' &&
    linked.restoreStatus &&
    RESTORABLE.has(linked.restoreStatus)
    ? { status: linked.restoreStatus }
    : {};
};

/**
 * A linked member's write, whether it went alone or in a batch (`first`), and what its failures
 * mean: a refused restore comes back unsubscribed, a 404 is MEMBER_GONE.
 */
async function writeLinked(ctx: PushContext, item: Existing, first: () => Promise<Member>): Promise<Member> {
  const linked = item.linked as MemberLinkState;
  try {
    try {
      return await first();
    } catch (error) {
      // It unsubscribed (or bounced) in Mailchimp before crm-sync archived it, which the link
      // could not know: Mailchimp keeps that through the archive and refuses the old status.
      // Bring the contact back as what it is, unsubscribed, with its fields up to date.
      if (!restoreOf(item).status || (error as { code?: string }).code !== COMPLIANCE) throw error;
      return await ctx.api.patchMember(memberRef(linked), { ...linkedPatch(item), status: 'unsubscribed' });
    }
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    await checkAudience(ctx);
    throw new PermanentError(
      `the Mailchimp member linked to this contact (contact_id ${linked.memberId}, last seen as ${linked.email}) is no longer in audience ${linked.listId}: deleted in Mailchimp. crm-sync does not re-create it, so nobody who asked to be forgotten is added back`,
      { code: 'MEMBER_GONE', status: 404 },
    );
  }
}

/**
 * Many linked members' PATCHes as one batch operation run (batch-run.ts), so re-syncing an
 * audience after a mapping change takes minutes, not hours. A failure of the run itself becomes
 * every record's error: PATCH is idempotent, so their retry is safe.
 */
async function patchInBatch(
  ctx: PushContext,
  items: Existing[],
): Promise<Map<Existing, OperationOutcome<Member>>> {
  const { listId } = ctx.settings;
  const outcomes = await runBatch(
    ctx,
    items.map((item) => ({
      method: 'PATCH' as const,
      path: `/lists/${listId}/members/${memberRef(item.linked as MemberLinkState)}`,
      body: JSON.stringify(linkedPatch(item)),
    })),
    { schema: MemberSchema, operation: 'PATCH member', item: "this member's update" },
  );
  return new Map(items.map((item, i) => [item, outcomes[i] as OperationOutcome<Member>]));
}

function ok(
  ctx: PushContext,
  write: MemberWrite,
  member: Member,
  owned: readonly string[],
  draft: MemberDraft,
): PushResult {
  const state = memberStateOf(member, ctx.settings.listId, owned, draft.email);
  ctx.members.set(write.record.entityId, {
    hash: member.id,
    memberId: state.memberId,
    email: member.email_address,
  });
  ctx.states.set(write.record.entityId, state);
  return { status: 'ok', externalId: state.memberId, state };
}
