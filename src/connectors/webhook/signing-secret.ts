import { randomBytes } from 'node:crypto';

/**
 * A fresh Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64 (the spec
 * asks for 24 to 64). For tests, the demo and admins who need one.
 */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
