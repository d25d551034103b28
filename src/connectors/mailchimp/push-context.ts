import type { Logger } from '../../logging/logger.js';
import { type ConnectorError, classifyUnknown } from '../errors.js';
import type { ConnectorContext, PushResult } from '../types.js';
import type { MemberLinkState } from './link-state.js';
import type { MailchimpApi } from './mailchimp-api.js';
import type { MergeFieldCatalog } from './merge-field-catalog.js';
import type { SegmentDirectory } from './segment-directory.js';
import type { MailchimpSettings } from './settings.js';

/** A member the push has written or found, by CRM contact id, for the records that follow. */
export interface LocatedMember {
  hash: string;
  memberId: string | null;
  email: string | null;
}

/** What one `push` call's steps share. */
export interface PushContext {
  api: MailchimpApi;
  settings: MailchimpSettings;
  catalog: MergeFieldCatalog;
  segments: SegmentDirectory;
  logger: Logger;
  lookupLink: NonNullable<ConnectorContext<unknown, unknown>['lookupLink']> | undefined;
  /** Members written earlier in this push, so an activity of a new contact needs no link yet. */
  members: Map<string, LocatedMember>;
  /**
   * The newest link state per contact written in this push: records of one contact in one batch
   * (an update and tag events) build on each other, and all of them report the final state.
   */
  states: Map<string, MemberLinkState>;
  /**
   * The first auth or config failure: every later call would fail the same way, so the records
   * not yet sent get that error without a call.
   */
  fatal: ConnectorError | null;
  /**
   * Whether the audience itself is there, read once per push when a member answered 404: a
   * deleted audience answers 404 for every member, which must pause the integration (config),
   * not dead-letter each contact as a member deleted in Mailchimp.
   */
  audienceCheck?: Promise<void>;
  /**
   * Note ids this push's look-ups (activity-lookup.ts) took as an earlier attempt of one of its
   * activities: two identical notes of one contact must not both take the same note.
   */
  claimedNotes?: Set<string>;
}

/** Resolves when the audience exists; rejects with its classified error (a config error if gone). */
export function checkAudience(ctx: PushContext): Promise<void> {
  ctx.audienceCheck ??= ctx.api.getList().then(() => undefined);
  return ctx.audienceCheck;
}

export const failed = (error: unknown): PushResult => ({ status: 'error', error: classifyUnknown(error) });

/**
 * Runs one record's step: a thrown error becomes its result, and an auth or config error stops
 * the records after it from being sent.
 */
export async function settle(ctx: PushContext, step: () => Promise<PushResult>): Promise<PushResult> {
  if (ctx.fatal) return { status: 'error', error: ctx.fatal };
  try {
    return await step();
  } catch (error) {
    const classified = classifyUnknown(error);
    if (classified.kind === 'auth' || classified.kind === 'config') ctx.fatal ??= classified;
    return { status: 'error', error: classified };
  }
}
