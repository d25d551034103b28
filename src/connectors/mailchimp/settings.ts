import { z } from 'zod';

/**
 * A Mailchimp account id, as the API root (`GET /3.0/`) names it: `8d3a3db4d97663a9074efcc16`.
 * It goes into rate-limiter keys, so nothing but letters, digits, `_` and `-`.
 */
export const MailchimpAccountId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, 'a Mailchimp account id such as "8d3a3db4d97663a9074efcc16"');

/**
 * What an admin configures for one Mailchimp integration (one audience of one account).
 * Defaults are the safe choice: no permanent deletion, no merge fields created behind anyone's back.
 */
export const MailchimpSettings = z
  .object({
    /** The audience (list) id, as shown under Audience → Settings → Audience name and defaults. */
    listId: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'a Mailchimp audience id such as "a1b2c3d4e5"'),
    /** API root including `/3.0`; else MAILCHIMP_BASE_URL; else the API key's data center. */
    baseUrl: z.url({ protocol: /^https?$/ }).nullish(),
    /**
     * The account the API key belongs to (`account_id` of GET /3.0/): names the account's shared
     * rate budget without asking Mailchimp. Without it the connector asks once per key.
     */
    accountId: MailchimpAccountId.optional(),
    /** Status a member gets when the push creates them; an existing member's status is never changed. */
    statusIfNew: z.enum(['subscribed', 'pending', 'transactional']).default('subscribed'),
    /** What an archived or deleted CRM contact does to its member; `delete` is irreversible. */
    deleteMode: z.enum(['archive', 'ignore', 'delete']).default('archive'),
    /** Mirror the contact's CRM tags as member tags (only tags the CRM set are ever removed). */
    syncTags: z.boolean().default(true),
    /** How a mapped CRM list shows up in Mailchimp: a member tag, or a static segment. */
    listTarget: z.enum(['tag', 'segment']).default('tag'),
    /** CRM list → Mailchimp tag/segment name, for engines that do not pass the mapped target. */
    lists: z
      .array(
        z
          .object({
            crmListId: z.union([z.string().min(1), z.number().int()]).transform(String),
            target: z.string().min(1).max(100),
          })
          .strict(),
      )
      .default([]),
    /** Prefix of the event names activities become (`crm_call`); letters, digits, `_` and `-`. */
    eventPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{0,20}$/, 'up to 20 letters, digits, "_" or "-"')
      .default('crm_'),
    /** false sends events with `is_syncing: true`, so they do not start customer journeys. */
    eventsTriggerAutomations: z.boolean().default(true),
    /** Create merge fields the mapping targets but the audience lacks (type inferred from the value). */
    createMissingMergeFields: z.boolean().default(false),
    requestTimeoutMs: z.number().int().min(1000).max(120_000).default(60_000),
    /**
     * Linked members updated in one push from which the updates go as one batch operation run
     * (POST /batches: one request, then a few status reads) instead of one PATCH each; likewise
     * tag events that need a request, and activities (notes and events); 0 never.
     */
    batchUpdatesFrom: z.number().int().min(0).max(500).default(10),
    /**
     * How long a batch run may take at Mailchimp before its records are retried; also how long
     * activities of a run that may still be applied wait before their retry looks for them.
     */
    batchTimeoutMs: z.number().int().min(1000).max(3_600_000).default(600_000),
    /**
     * How long after a note or event POST got no answer (timed out, connection lost) or a 5xx
     * Mailchimp may still add it: its retry looks for it, and adds it only if not found, no
     * sooner. Mailchimp ends a request it is still working on after 120 s.
     */
    lostAnswerWaitMs: z.number().int().min(0).max(600_000).default(120_000),
  })
  .strict();
export type MailchimpSettings = z.infer<typeof MailchimpSettings>;
export type MailchimpSettingsInput = z.input<typeof MailchimpSettings>;

export const MailchimpCredentials = z
  .object({
    apiKey: z
      .string()
      .trim()
      .regex(
        /^[A-Za-z0-9]{8,}-[a-z]{2,4}\d{1,3}$/,
        'a Mailchimp API key ends with its data center, e.g. "…-us6"',
      ),
  })
  .strict();
export type MailchimpCredentials = z.infer<typeof MailchimpCredentials>;
