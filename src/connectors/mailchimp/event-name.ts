import type { Activity } from '../../events/snapshots.js';

/**
 * Mailchimp event names: 2–30 characters, letters, digits, `_` and `-`
 * (https://mailchimp.com/developer/marketing/api/list-member-events/).
 */
export const EVENT_NAME = /^[A-Za-z0-9_-]{2,30}$/;

function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * `crm_call`, `crm_page_view`, …; a CUSTOM_EVENT uses its own name (`properties.name` or
 * `properties.event`) when it has one. Always valid: cut to 30, padded out when too short.
 */
export function eventNameFor(activity: Activity, prefix: string): string {
  const own =
    activity.type === 'CUSTOM_EVENT' ? (activity.properties.name ?? activity.properties.event) : undefined;
  const suffix = sanitize(typeof own === 'string' && own.trim() !== '' ? own : activity.type).toLowerCase();
  const name = `${prefix}${suffix || 'event'}`.slice(0, 30).replace(/_+$/, '');
  return name.length >= 2 ? name : `${name}_event`.slice(0, 30);
}

/** Event properties are string → string; nested values are sent as JSON. */
export function eventPropertiesFor(activity: Activity): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(activity.properties)) {
    if (value === null || value === undefined) continue;
    const name = sanitize(key);
    if (name === '') continue;
    properties[name] =
      typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  if (activity.content) properties.content = activity.content;
  if (activity.module) properties.module = activity.module;
  properties.crm_activity_id = String(activity.id);
  return properties;
}

/** Mailchimp keeps notes up to 1,000 characters; a longer CRM note is cut and says so. */
export const NOTE_MAX = 1000;

export function noteTextFor(activity: Activity): string {
  const text = (activity.content ?? '').trim();
  if (text.length <= NOTE_MAX) return text;
  const marker = ' […]';
  return text.slice(0, NOTE_MAX - marker.length) + marker;
}
