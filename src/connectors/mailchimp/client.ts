import type { EntityType } from '../../events/event-types.js';
import { classifyUnknown } from '../errors.js';
import type {
  CheckResult,
  ConnectorClient,
  ConnectorContext,
  FieldDescriptor,
  ProviderRequest,
  PushRecord,
  PushResult,
} from '../types.js';
import { resolveBaseUrl } from './account.js';
import { describeMergeFields, explainMissingMergeField } from './field-descriptors.js';
import { createMailchimpApi } from './mailchimp-api.js';
import { createMergeFieldCatalog } from './merge-field-catalog.js';
import { pushBatch } from './push-batch.js';
import { apiKeySecrets } from './redact-secrets.js';
import { createSdk } from './sdk-client.js';
import { createSegmentDirectory } from './segment-directory.js';
import type { MailchimpCredentials, MailchimpSettings } from './settings.js';

export type MailchimpContext = ConnectorContext<MailchimpSettings, MailchimpCredentials>;

/**
 * A client for one integration: its own SDK ApiClient (its own key and base URL), its own
 * merge-field and segment caches. Nothing is shared between integrations in one process.
 */
export function createMailchimpClient(
  ctx: MailchimpContext,
  env: NodeJS.ProcessEnv = process.env,
): ConnectorClient {
  const { settings, credentials } = ctx;
  const sdk = createSdk({
    apiKey: credentials.apiKey,
    baseUrl: resolveBaseUrl(settings, credentials, env),
    timeoutMs: settings.requestTimeoutMs,
  });
  const secrets = apiKeySecrets(credentials.apiKey);
  const apiVia = (request: ProviderRequest) =>
    createMailchimpApi({ sdk, listId: settings.listId, request, secrets });
  // Looked up per call, so the engine may wrap or swap its limiter after the client exists.
  const api = apiVia((call, options) => ctx.request(call, options));
  const catalog = createMergeFieldCatalog(api);
  const segments = createSegmentDirectory(api);

  return {
    async check(): Promise<CheckResult> {
      try {
        const list = await api.getList();
        return { ok: true, account: `audience "${list.name}" (${list.id})` };
      } catch (error) {
        return { ok: false, message: classifyUnknown(error).message };
      }
    },

    async describeFields(entityType: EntityType): Promise<FieldDescriptor[]> {
      if (entityType !== 'contact') return [];
      return describeMergeFields(await api.getMergeFields());
    },

    // The catalog is kept per client: every push formats its merge fields with it.
    async warmUp() {
      await catalog.get();
    },

    explainMissingField: (entityType, target) =>
      entityType === 'contact' ? explainMissingMergeField(target, settings) : undefined,

    push(batch: PushRecord[], request?: ProviderRequest): Promise<PushResult[]> {
      return pushBatch(batch, {
        // The push's own request: the engine counts its calls, caches' included, against it.
        api: request ? apiVia(request) : api,
        settings,
        catalog,
        segments,
        logger: ctx.logger,
        lookupLink: ctx.lookupLink?.bind(ctx),
        members: new Map(),
        states: new Map(),
        fatal: null,
      });
    },

    async close() {
      sdk.close();
    },
  };
}
