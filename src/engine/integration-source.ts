import type { CredentialsCipher } from '../store/credentials-cipher.js';
import type { Db } from '../store/db.js';
import {
  getIntegrationById,
  listEnabledIntegrationsForOrg,
  listIntegrations,
  loadCredentials,
} from '../store/integrations-repo.js';
import type { IntegrationSource } from './runtime-registry.js';

/** The runtime registry's view of the integrations table. */
export function integrationSourceFromDb(db: Db, cipher: CredentialsCipher): IntegrationSource {
  return {
    async load(id) {
      const integration = await getIntegrationById(db, id);
      if (!integration) return null;
      const credentials = (await loadCredentials(db, id, cipher)) ?? {};
      return { integration, credentials };
    },
    listEnabled: (organizationId) => listEnabledIntegrationsForOrg(db, organizationId),
    listAllEnabled: () => listIntegrations(db, { enabledOnly: true }),
    current: (id) => getIntegrationById(db, id),
  };
}
