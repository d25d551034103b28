import { createHash, randomUUID } from 'node:crypto';
import { assertMergeFields, type SandboxMergeField } from './merge-validation.js';
import { complianceState, forgotten, invalid, notFound, notRemovable } from './problem.js';

export type SandboxStatus =
  | 'subscribed'
  | 'unsubscribed'
  | 'cleaned'
  | 'pending'
  | 'transactional'
  | 'archived';
export const WRITABLE_STATUSES = [
  'subscribed',
  'unsubscribed',
  'cleaned',
  'pending',
  'transactional',
] as const;

export interface SandboxMember {
  id: string;
  contact_id: string;
  unique_email_id: string;
  web_id: number;
  email_address: string;
  status: SandboxStatus;
  /** What an archived member was before, so re-adding them cannot launder an unsubscribe. */
  statusBeforeArchive: SandboxStatus | null;
  merge_fields: Record<string, unknown>;
  /** By lowercased name: the audience's tags (static segments) this member carries. */
  tags: Map<string, SandboxTag>;
  notes: { id: number; note: string; created_at: string }[];
  events: { name: string; properties: Record<string, string>; occurred_at: string; is_syncing: boolean }[];
  timestamp_signup: string;
  last_changed: string;
}

/**
 * A tag, which is also a static segment: Mailchimp turned static segments into tags, lists every
 * tag under GET …/segments?type=static with the same id, and adding a member to either adds them
 * to both. So the audience keeps one registry of them (id, name), and who carries one is kept on
 * the members alone: the two APIs cannot disagree.
 */
export interface SandboxTag {
  id: number;
  name: string;
}

export const hashOf = (email: string) => createHash('md5').update(email.trim().toLowerCase()).digest('hex');
// randomUUID draws from a cached pool; randomBytes per member was a tenth of an import's CPU.
const randomHex = (length: number) => randomUUID().replaceAll('-', '').slice(0, length);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

let webIds = 1000;

/**
 * One audience with Mailchimp's member semantics as documented: status_if_new only for new
 * members, status changes guarded by compliance (an unsubscribed or cleaned address cannot be
 * set to subscribed; pending re-opt-in sends a confirmation mail), archived members remembering
 * their status, permanently deleted addresses refused forever.
 */
export class Audience {
  readonly members = new Map<string, SandboxMember>();
  /** The same members by `contact_id`: a scan per lookup made a 20,000-member import quadratic. */
  private readonly byContactId = new Map<string, SandboxMember>();
  readonly forgotten = new Set<string>();
  readonly mergeFields = new Map<string, SandboxMergeField>();
  /** The tags (static segments) by id, as the segment routes name them. */
  readonly segments = new Map<string, SandboxTag>();
  private readonly segmentsByName = new Map<string, SandboxTag>();
  private nextSegmentId = 1000;
  /** Confirmation mails a `pending` status would have sent: (re-)opt-in requests. */
  readonly confirmations: { email: string; at: string }[] = [];
  private nextId = 1;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly account: string,
    mergeFields: Omit<SandboxMergeField, 'merge_id' | 'public' | 'default_value'>[],
  ) {
    for (const f of mergeFields) this.addMergeField(f);
  }

  addMergeField(f: Omit<SandboxMergeField, 'merge_id' | 'public' | 'default_value'>): SandboxMergeField {
    const field: SandboxMergeField = { ...f, merge_id: this.nextId++, public: false, default_value: '' };
    this.mergeFields.set(field.tag, field);
    return field;
  }

  /** A member by hash, email or contact_id, as the API's `{subscriber_hash}` accepts all three. */
  find(ref: string): SandboxMember | undefined {
    const byHash = this.members.get(/^[0-9a-f]{32}$/.test(ref) ? ref : hashOf(ref));
    return byHash ?? this.byContactId.get(ref);
  }

  live(ref: string): SandboxMember {
    const member = this.find(ref);
    if (!member || member.status === 'archived') throw notFound();
    return member;
  }

  /** Sets a status the way the API allows; the compliance guard is Mailchimp's, not ours. */
  changeStatus(member: SandboxMember, requested: SandboxStatus): void {
    if (requested === member.status) return;
    this.assertStatusChange(member, requested);
    if (requested === 'pending')
      this.confirmations.push({ email: member.email_address, at: new Date().toISOString() });
    member.status = requested;
    this.touch(member);
  }

  /** A new member (or an archived one coming back, keeping an unsubscribe). */
  create(email: string, status: SandboxStatus, mergeFields: Record<string, unknown>): SandboxMember {
    const hash = hashOf(email);
    if (!EMAIL.test(email))
      throw invalid(`${email} looks fake or invalid, please enter a real email address.`);
    if (this.forgotten.has(hash)) throw forgotten(email);
    assertMergeFields(this.mergeFields, mergeFields, true);
    const archived = this.members.get(hash);
    const kept = archived?.statusBeforeArchive;
    const finalStatus = kept === 'unsubscribed' || kept === 'cleaned' ? kept : status;
    const now = new Date().toISOString();
    const member: SandboxMember = archived ?? {
      id: hash,
      contact_id: randomHex(32),
      unique_email_id: randomHex(10),
      web_id: webIds++,
      email_address: email,
      status: finalStatus,
      statusBeforeArchive: null,
      merge_fields: {},
      tags: new Map(),
      notes: [],
      events: [],
      timestamp_signup: now,
      last_changed: now,
    };
    member.status = finalStatus;
    member.statusBeforeArchive = null;
    Object.assign(member.merge_fields, mergeFields);
    this.members.set(hash, member);
    this.byContactId.set(member.contact_id, member);
    if (finalStatus === 'pending') this.confirmations.push({ email, at: now });
    this.touch(member);
    return member;
  }

  updateFields(member: SandboxMember, mergeFields: Record<string, unknown>): void {
    assertMergeFields(this.mergeFields, mergeFields, false);
    Object.assign(member.merge_fields, mergeFields);
    this.touch(member);
  }

  /**
   * Throws what Mailchimp answers when `requested` is not allowed from the member's status (an
   * archived member: from the status it had before); changes nothing, so a request can be
   * checked whole before any of it is applied.
   */
  assertStatusChange(member: SandboxMember, requested: SandboxStatus): void {
    const archived = member.status === 'archived';
    const from = archived ? member.statusBeforeArchive : member.status;
    if (requested === from) return;
    const blocked = from === 'unsubscribed' || from === 'cleaned';
    if (requested === 'subscribed' && blocked) throw complianceState(member.email_address);
    // A live unsubscribed member may be asked to opt in again (pending); one coming back from the
    // archive keeps its unsubscribe, and a cleaned address gets no mail at all.
    if (requested === 'pending' && (from === 'cleaned' || (archived && blocked)))
      throw complianceState(member.email_address);
  }

  /** Throws what Mailchimp answers when the member cannot take this address; changes nothing. */
  assertEmailChange(member: SandboxMember, email: string): void {
    const hash = hashOf(email);
    if (hash === member.id) return;
    if (!EMAIL.test(email))
      throw invalid(`${email} looks fake or invalid, please enter a real email address.`);
    if (this.forgotten.has(hash)) throw forgotten(email);
    const other = this.members.get(hash);
    if (other && other.status !== 'archived') throw invalid(`${email} is already a list member.`);
  }

  changeEmail(member: SandboxMember, email: string): void {
    const hash = hashOf(email);
    if (hash === member.id) return;
    this.assertEmailChange(member, email);
    this.members.delete(member.id);
    member.id = hash;
    member.email_address = email;
    this.members.set(hash, member);
    this.touch(member);
  }

  /**
   * DELETE …/members/{ref}. Mailchimp answers 405 for a member it cannot archive: one already
   * archived, or pending or cleaned (recorded answers: "This list member cannot be removed.").
   */
  archive(ref: string): void {
    const member = this.find(ref);
    if (!member) throw notFound();
    if (member.status === 'archived' || member.status === 'pending' || member.status === 'cleaned')
      throw notRemovable();
    member.statusBeforeArchive = member.status;
    member.status = 'archived';
    this.touch(member);
  }

  /** An archived member back in the audience: an unsubscribe or clean survives the archive. */
  restore(member: SandboxMember, requested: SandboxStatus): void {
    const kept = member.statusBeforeArchive;
    if (kept === 'unsubscribed' || kept === 'cleaned') {
      this.assertStatusChange(member, requested);
      member.status = kept;
    } else {
      member.status = requested;
      if (requested === 'pending')
        this.confirmations.push({ email: member.email_address, at: new Date().toISOString() });
    }
    member.statusBeforeArchive = null;
    this.touch(member);
  }

  deletePermanently(ref: string): void {
    const member = this.find(ref);
    if (!member) throw notFound();
    this.members.delete(member.id);
    this.byContactId.delete(member.contact_id);
    this.forgotten.add(member.id);
  }

  setTags(member: SandboxMember, tags: { name: string; status: string }[], replace = false): void {
    if (replace) member.tags.clear();
    for (const tag of tags) {
      const key = tag.name.toLowerCase();
      if (tag.status === 'inactive') member.tags.delete(key);
      else if (!member.tags.has(key)) member.tags.set(key, this.tagNamed(tag.name));
    }
    this.touch(member);
  }

  /** The tag (static segment) of this name, case-insensitively; tagging someone creates it. */
  tagNamed(name: string): SandboxTag {
    return this.segmentsByName.get(name.toLowerCase()) ?? this.createSegment(name);
  }

  /** POST …/segments; a name any tag already has is refused, as one name is one segment. */
  createSegment(name: string): SandboxTag {
    const key = name.toLowerCase();
    if (this.segmentsByName.has(key)) throw invalid(`A segment or tag named "${name}" already exists.`);
    const segment = { id: this.nextSegmentId++, name };
    this.segments.set(String(segment.id), segment);
    this.segmentsByName.set(key, segment);
    return segment;
  }

  /** Who carries the tag, archived members left out (they are not in the audience's counts). */
  segmentMembers(segment: SandboxTag): SandboxMember[] {
    const key = segment.name.toLowerCase();
    return [...this.members.values()].filter((m) => m.status !== 'archived' && m.tags.has(key));
  }

  addNote(member: SandboxMember, note: string) {
    const created = { id: this.nextId++, note, created_at: new Date().toISOString() };
    member.notes.push(created);
    return created;
  }

  private touch(member: SandboxMember): void {
    member.last_changed = new Date().toISOString();
  }

  view(member: SandboxMember) {
    return {
      id: member.id,
      email_address: member.email_address,
      unique_email_id: member.unique_email_id,
      contact_id: member.contact_id,
      web_id: member.web_id,
      status: member.status,
      merge_fields: { ...member.merge_fields },
      tags_count: member.tags.size,
      tags: [...member.tags.values()],
      timestamp_signup: member.timestamp_signup,
      last_changed: member.last_changed,
      list_id: this.id,
    };
  }
}
