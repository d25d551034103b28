import { z } from 'zod';

/**
 * What an admin configures for a HubSpot integration (CONTRACT §2 `settings:`). Everything has a
 * default, so `settings: {}` works against the real HubSpot.
 */
export const HubSpotSettings = z
  .object({
    /** HubSpot's API root; a loopback simulator in tests and the demo. `HUBSPOT_BASE_URL` fills it in. */
    baseUrl: z
      .url()
      .nullish()
      .transform((v) => v ?? 'https://api.hubapi.com'),
    /** The HubSpot account (hub) id: names the rate-limit budget when given, instead of a token digest. */
    portalId: z
      .union([z.string().regex(/^\d+$/, 'digits only'), z.number().int().positive()])
      .transform(String)
      .optional(),
    /** What CRM_CONTACT_ARCHIVED/DELETED and CRM_COMPANY_DELETED do at HubSpot. */
    deleteMode: z.enum(['archive', 'ignore']).default('ignore'),
    /** The account's time zone: HubSpot's daily quota resets at its midnight. */
    timeZone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, { message: 'an IANA time zone such as UTC or Europe/Berlin' }),
    /** Create mapped properties HubSpot does not know, in the `crm_sync` property group. */
    createMissingProperties: z.boolean().default(false),
    /** A request that has not answered after this long is abandoned and retried. */
    requestTimeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
  })
  .strict();
export type HubSpotSettings = z.infer<typeof HubSpotSettings>;
export type HubSpotSettingsInput = z.input<typeof HubSpotSettings>;

/** A private app's access token (or an OAuth access token). */
export const HubSpotCredentials = z
  .object({
    accessToken: z.string().trim().min(1, 'the HubSpot private app access token is required'),
  })
  .strict();
export type HubSpotCredentials = z.infer<typeof HubSpotCredentials>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
