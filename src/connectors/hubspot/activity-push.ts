import type { Activity } from '../../events/snapshots.js';
import { isConnectorError, RetryableError } from '../errors.js';
import type { PushRecord, PushResult } from '../types.js';
import { type PlannedEngagement, settleEarlierAttempts } from './activity-retries.js';
import { associateAtCreate, ENGAGEMENTS, type EngagementKind } from './association-types.js';
import type { PushEnv } from './contact-push.js';
import type { EngagementType } from './engagement-match.js';
import { engagementProperties } from './engagement-properties.js';
import { contactIdsByEmail } from './links.js';
import { createWithTraceIds } from './object-writes.js';
import { normalizeEmail, toHubSpotProperties } from './property-values.js';

/** An engagement to create, and the activity's place in the lane's records. */
type Planned = PlannedEngagement & { index: number };

/**
 * CRM_ACTIVITY_CREATED → a HubSpot engagement (note, call, meeting, email, task), associated at
 * creation with the contact and, when linked, the company. The engagement id is the activity's
 * link, so a replay of a linked activity makes no call; a retried one not linked yet looks for
 * the engagement an earlier attempt may have created (activity-retries.ts), and is created only
 * when none is found. PAGE_VIEW and CUSTOM_EVENT have no engagement of their own: they become
 * notes only when a mapping gives them properties.
 */
export async function pushActivities(env: PushEnv, records: PushRecord[]): Promise<PushResult[]> {
  const results: (PushResult | undefined)[] = records.map(() => undefined);
  const pending: { index: number; activity: Activity; kind: EngagementKind }[] = [];
  for (const [index, record] of records.entries()) {
    if (record.event.type !== 'CRM_ACTIVITY_CREATED') {
      results[index] = { status: 'skipped', reason: `not an activity event (${record.event.type})` };
      continue;
    }
    if (record.externalId) {
      results[index] = { status: 'ok', externalId: record.externalId, state: record.state };
      continue;
    }
    const activity = record.event.data;
    const mapped = Object.keys(record.payload).length > 0;
    if (activity.type === 'PAGE_VIEW' || activity.type === 'CUSTOM_EVENT') {
      if (!mapped) {
        results[index] = {
          status: 'skipped',
          reason: `${activity.type} activities are synced only when mapped`,
        };
        continue;
      }
      pending.push({ index, activity, kind: 'NOTE' });
    } else pending.push({ index, activity, kind: activity.type });
  }

  const contacts = await resolveContacts(
    env,
    pending.map((p) => p.activity),
  );
  // Looked up together: the engine answers lookups made at the same moment with one query.
  const companies = await Promise.all(
    pending.map(({ activity }) =>
      activity.companyId == null ? null : env.links.find('company', String(activity.companyId)),
    ),
  );
  const planned: Planned[] = [];
  for (const [k, { index, activity, kind }] of pending.entries()) {
    const contactId = contacts[k];
    if (!contactId) {
      // Most likely the contact's own event is still on its way: try again later.
      results[index] = {
        status: 'error',
        error: new RetryableError(
          `HubSpot activity: contact ${activity.contactId} is not synced to HubSpot yet`,
          {
            code: 'CONTACT_NOT_SYNCED',
          },
        ),
      };
      continue;
    }
    const engagement = ENGAGEMENTS[kind];
    const companyId = companies[k];
    const record = records[index]!;
    planned.push({
      index,
      record,
      objectType: engagement.objectType,
      contactId,
      company: companyId ? { id: companyId, typeId: engagement.toCompany } : null,
      write: {
        traceId: record.key,
        properties: { ...engagementProperties(kind, activity), ...toHubSpotProperties(record.payload) },
        associations: [
          associateAtCreate(contactId, engagement.toContact),
          ...(companyId ? [associateAtCreate(companyId, engagement.toCompany)] : []),
        ],
      },
    });
  }

  // A retried activity may have been created by an attempt whose answer was lost: look first.
  const earlier = await settleEarlierAttempts(env, planned);
  const byType = new Map<EngagementType, Planned[]>();
  for (const plan of planned) {
    const done = earlier.get(plan);
    if (done) {
      results[plan.index] = done;
      continue;
    }
    byType.set(plan.objectType, [...(byType.get(plan.objectType) ?? []), plan]);
  }

  // Engagements this push created or found: once there are any, a failure no longer throws.
  let landed = [...earlier.values()].some((r) => r.status === 'ok');
  for (const [objectType, group] of byType) {
    let created: Awaited<ReturnType<typeof createWithTraceIds>>;
    try {
      created = await createWithTraceIds(
        env.api,
        objectType,
        group.map((g) => g.write),
      );
    } catch (error) {
      // Thrown whole while nothing is linked; once some engagement is, the failure becomes this
      // type's results, so what landed is linked rather than looked for again.
      if (!isConnectorError(error) || !landed) throw error;
      for (const { index } of group) results[index] = { status: 'error', error };
      continue;
    }
    landed ||= created.some((settled) => 'ok' in settled);
    group.forEach(({ index }, k) => {
      const settled = created[k]!;
      results[index] =
        'ok' in settled
          ? { status: 'ok', externalId: settled.ok.id, state: { objectType } }
          : { status: 'error', error: settled.error };
    });
  }
  return results.map((r) => r!);
}

/** The HubSpot contact of each activity: its link, else its email when the event carries one. */
async function resolveContacts(env: PushEnv, activities: Activity[]): Promise<(string | null)[]> {
  const ids = await Promise.all(activities.map((a) => env.links.find('contact', String(a.contactId))));
  const emails = activities.map((a, k) => (ids[k] ? null : emailOf(a)));
  const wanted = emails.filter((e): e is string => e !== null);
  if (wanted.length === 0) return ids;
  const found = await contactIdsByEmail(env.api, wanted);
  return ids.map((id, k) => id ?? (emails[k] ? (found.get(emails[k]!) ?? null) : null));
}

function emailOf(activity: Activity): string | null {
  const loose = activity as Activity & { contactEmail?: unknown; contact?: { email?: unknown } };
  return normalizeEmail(loose.contactEmail ?? loose.contact?.email ?? activity.properties.email);
}
