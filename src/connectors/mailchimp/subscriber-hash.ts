import { createHash } from 'node:crypto';

/**
 * Mailchimp addresses a member by the MD5 hash of the lowercased email
 * (https://mailchimp.com/developer/marketing/docs/methods-parameters/#path-parameters).
 * Paths always carry the hash, never the email: the SDK's `buildUrl` rewrites the first
 * "server" in a URL, which an email like observer@x.com would contain.
 */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase()).digest('hex');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
