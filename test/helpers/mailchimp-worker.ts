import { randomBytes } from 'node:crypto';
import {
  createMailchimpSandbox,
  type MailchimpSandbox,
} from '../../src/connectors/mailchimp/sandbox/index.js';
import type { MailchimpSettingsInput } from '../../src/connectors/mailchimp/settings.js';
import { type EngineHarness, startEngineHarness } from './engine-harness.js';

export interface MailchimpWorker {
  h: EngineHarness;
  sandbox: MailchimpSandbox;
  integrationId: string;
  close(): Promise<void>;
}

/**
 * A whole worker with one Mailchimp integration on a sandbox of its own (a fresh account key,
 * one audience `listId`): for end-to-end tests through the engine. `close()` in afterAll.
 */
export async function startMailchimpWorker(options: {
  key: string;
  listId: string;
  settings?: Omit<MailchimpSettingsInput, 'listId' | 'baseUrl'>;
}): Promise<MailchimpWorker> {
  const apiKey = `${randomBytes(16).toString('hex')}-us1`;
  const sandbox = createMailchimpSandbox({ limits: { maxConnections: 10 } });
  const { url } = await sandbox.start();
  sandbox.addAccount(apiKey, 'acme');
  sandbox.addAudience({ id: options.listId, apiKey });
  const h = await startEngineHarness();
  const applied = await h.applyIntegration({
    key: options.key,
    organizationId: 'org_1',
    provider: 'MAILCHIMP',
    name: `Mailchimp - ${options.key}`,
    credentials: { apiKey },
    settings: { ...options.settings, listId: options.listId, baseUrl: url },
  });
  return {
    h,
    sandbox,
    integrationId: applied.integration.id,
    async close() {
      await h.close();
      await sandbox.stop();
    },
  };
}
