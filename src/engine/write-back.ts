import { AuthError, PermanentError, RetryableError } from '../connectors/errors.js';

export interface WriteBackTarget {
  crmApiUrl: string;
  crmApiKey: string;
}

/**
 * Writes a provider's id into a CRM contact's custom property:
 * `PATCH {CRM_API_URL}/crm/contacts/:id` with Bearer `CRM_API_KEY`; the CRM answers 202.
 * The body says the write comes from this integration, so the CRM stamps the event it
 * publishes for it with `source.module = INTEGRATION` and the router does not echo it back.
 */
export async function writeBackExternalId(
  target: WriteBackTarget,
  input: { contactId: string; property: string; externalId: string; integrationId: string },
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const url = `${target.crmApiUrl.replace(/\/$/, '')}/crm/contacts/${encodeURIComponent(input.contactId)}`;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${target.crmApiKey}`,
        'content-type': 'application/json',
        'x-crm-sync-integration': input.integrationId,
      },
      body: JSON.stringify({
        properties: { [input.property]: input.externalId },
        source: { module: 'INTEGRATION', integrationId: input.integrationId },
      }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new RetryableError(`CRM write-back failed: ${(error as Error).message}`, { cause: error });
  }
  if (response.ok) return;
  const body = await response.text().catch(() => '');
  const details = { status: response.status, body: body.slice(0, 2000) };
  if (response.status === 401 || response.status === 403)
    throw new AuthError('CRM API rejected CRM_API_KEY', details);
  if (response.status === 429 || response.status >= 500) {
    throw new RetryableError(`CRM write-back answered ${response.status}`, details);
  }
  throw new PermanentError(`CRM write-back answered ${response.status}`, details);
}
