import { createHash } from 'node:crypto';

/**
 * BullMQ refuses custom job ids that look like integers or contain ':' (it reserves them for its
 * own repeatable jobs). Event ids are used as job ids verbatim when BullMQ accepts them, and
 * otherwise as a stable digest, so the same event id always maps to the same job id.
 */
export function jobIdFor(id: string): string {
  const integerLike = `${Number.parseInt(id, 10)}` === id;
  if (!integerLike && !id.includes(':')) return id;
  return `h-${createHash('sha256').update(id).digest('base64url').slice(0, 32)}`;
}
