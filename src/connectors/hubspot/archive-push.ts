import { isConnectorError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import type { PushEnv } from './contact-push.js';
import { archiveByIds, type ObjectType } from './object-writes.js';

/**
 * CRM_CONTACT_ARCHIVED/DELETED and CRM_COMPANY_DELETED, per `settings.deleteMode`: `ignore` (the
 * default) leaves HubSpot alone; `archive` archives the linked record (HubSpot keeps it 90 days
 * in its recycle bin). GDPR deletion is deliberately not offered: it cannot be undone.
 */
export async function pushArchives(
  env: PushEnv,
  records: PushRecord[],
  deleteMode: 'archive' | 'ignore',
): Promise<PushResult[]> {
  if (deleteMode === 'ignore') {
    return records.map(() => ({
      status: 'skipped',
      reason: 'settings.deleteMode is ignore: HubSpot record kept',
    }));
  }
  const results: PushResult[] = records.map((r) =>
    r.externalId
      ? { status: 'ok', externalId: r.externalId, state: { ...r.state, archived: true } }
      : { status: 'skipped', reason: 'never synced to HubSpot: nothing to archive' },
  );
  for (const type of ['contacts', 'companies'] as const satisfies ObjectType[]) {
    const entity = type === 'contacts' ? 'contact' : 'company';
    const indices = records.flatMap((r, i) => (r.entityType === entity && r.externalId ? [i] : []));
    if (indices.length === 0) continue;
    try {
      await archiveByIds(env.api, type, [...new Set(indices.map((i) => records[i]!.externalId!))]);
    } catch (error) {
      if (!isConnectorError(error) || error.kind !== 'permanent') throw error;
      for (const i of indices) results[i] = { status: 'error', error };
    }
  }
  return results;
}
