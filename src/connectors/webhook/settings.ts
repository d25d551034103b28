import { z } from 'zod';

/**
 * What an admin configures for a signed-webhook integration. Settings are stored in clear;
 * anything secret (the signing secret, an `Authorization` header) belongs in credentials, which
 * are encrypted at rest and never logged.
 */

// RFC 9110 §5.6.2: a header name is a token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Printable ASCII, space and tab: no CR/LF (header injection), nothing Node would refuse to send.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Headers the connector sets itself: overriding them would break signing or framing. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

const SECRET_LOOKING = /(authorization|cookie|secret|token|password|passwd|api[-_]?key)/i;

const HeaderValue = z
  .string()
  .max(8192)
  .regex(HEADER_VALUE, 'a header value is printable ASCII, no line breaks');

/**
 * Header name checks live in one refinement, not in the record's key schema: zod reports a bad
 * record key only as "Invalid key in record", and an admin needs to be told why.
 */
function headerMap(where: 'settings' | 'credentials') {
  return z
    .record(z.string(), HeaderValue)
    .default({})
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        const problem = !HEADER_NAME.test(name)
          ? "a header name is letters, digits and !#$%&'*+.^_`|~- (RFC 9110 token)"
          : RESERVED_HEADERS.has(name.toLowerCase())
            ? `the connector sets this header itself (reserved: ${[...RESERVED_HEADERS].join(', ')})`
            : where === 'settings' && SECRET_LOOKING.test(name)
              ? `header "${name}" looks secret: put it in credentials.headers (encrypted at rest, never logged)`
              : null;
        if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
      }
    });
}

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'url must be an absolute http:// or https:// URL' })
  .refine((value) => {
    // zod runs refinements after a failed check too: an unparseable URL is reported above.
    const url = URL.parse(value);
    return url === null || (url.username === '' && url.password === '');
  }, 'url must not carry user:password@ (settings are stored in clear): put an Authorization header in credentials.headers');

export const WebhookSettings = z
  .object({
    /** Where every delivery is POSTed. Redirects are not followed. */
    url: httpUrl,
    /**
     * Lets the URL resolve to private, loopback, link-local or CGNAT addresses (an in-cluster
     * receiver, tests). Cloud metadata addresses stay refused whatever this says.
     */
    allowPrivateNetwork: z.boolean().default(false),
    /** The whole attempt: DNS, connect, TLS, request and the receiver's answer. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Extra non-secret headers sent with every delivery. */
    headers: headerMap('settings'),
  })
  .strict();
export type WebhookSettings = z.infer<typeof WebhookSettings>;
export type WebhookSettingsInput = z.input<typeof WebhookSettings>;

// Standard Webhooks spec, "Signature scheme": the secret is base64, optionally prefixed
// `whsec_`, and should be 24 to 64 bytes of randomness.
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const SigningSecret = z.string().superRefine((value, ctx) => {
  const encoded = value.startsWith(SECRET_PREFIX) ? value.slice(SECRET_PREFIX.length) : value;
  // Messages never quote the value: it is a secret.
  if (encoded === '' || !BASE64.test(encoded)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'signingSecret must be "whsec_" followed by base64 (generate one with: openssl rand -base64 32)',
    });
    return;
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64) {
    ctx.addIssue({
      code: 'custom',
      message: `signingSecret must decode to 24–64 bytes (Standard Webhooks), this one is ${bytes} bytes`,
    });
  }
});

export const WebhookCredentials = z
  .object({
    signingSecret: SigningSecret,
    /** Secret headers (e.g. `Authorization: Bearer …`) the receiver wants besides the signature. */
    headers: headerMap('credentials'),
  })
  .strict();
export type WebhookCredentials = z.infer<typeof WebhookCredentials>;
export type WebhookCredentialsInput = z.input<typeof WebhookCredentials>;
