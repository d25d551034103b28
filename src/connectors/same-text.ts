/**
 * Whether a text a provider gives back is the one sent, for finding what an earlier attempt
 * wrote: line breaks and surrounding whitespace are compared loosely, since providers may store
 * `\r\n` as `\n` or trim (neither HubSpot nor Mailchimp documents whether it does), and a write
 * missed for a changed line break would be made a second time. Absent and empty are the same.
 */
export function sameText(sent: string | null | undefined, stored: string | null | undefined): boolean {
  return normalised(sent) === normalised(stored);
}

const normalised = (value: string | null | undefined) => (value ?? '').replace(/\r\n?/g, '\n').trim();
