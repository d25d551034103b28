import { describe, expect, it } from 'vitest';
import { Activity } from '../../../events/snapshots.js';
import { EVENT_NAME, eventNameFor, eventPropertiesFor, NOTE_MAX, noteTextFor } from '../event-name.js';

const activity = (input: Record<string, unknown>) =>
  Activity.parse({ id: 7, contactId: 1, occurredAt: '2026-11-22T10:00:00.000Z', ...input });

describe('naming member events after activities', () => {
  it('prefixes the lowercased activity type', () => {
    expect(eventNameFor(activity({ type: 'PAGE_VIEW' }), 'crm_')).toBe('crm_page_view');
    expect(eventNameFor(activity({ type: 'MEETING' }), '')).toBe('meeting');
  });

  it('uses a custom event’s own name, cleaned of characters Mailchimp refuses', () => {
    expect(
      eventNameFor(activity({ type: 'CUSTOM_EVENT', properties: { name: 'Trial Started!' } }), 'crm_'),
    ).toBe('crm_trial_started');
  });

  it('always yields a valid name, even from a very long one', () => {
    const name = eventNameFor(
      activity({ type: 'CUSTOM_EVENT', properties: { name: 'a'.repeat(80) } }),
      'crm-',
    );
    expect(name).toMatch(EVENT_NAME);
    expect(name).toHaveLength(30);
  });

  it('sends properties as strings, with the content and the activity id', () => {
    const props = eventPropertiesFor(
      activity({
        type: 'CALL',
        content: 'Discussed renewal',
        properties: { duration: 320, outcome: 'won', meta: { a: 1 }, none: null },
      }),
    );
    expect(props).toEqual({
      duration: '320',
      outcome: 'won',
      meta: '{"a":1}',
      content: 'Discussed renewal',
      crm_activity_id: '7',
    });
  });

  it('cuts a note to Mailchimp’s 1,000 characters and marks the cut', () => {
    const note = noteTextFor(activity({ type: 'NOTE', content: 'x'.repeat(1500) }));
    expect(note).toHaveLength(NOTE_MAX);
    expect(note.endsWith('[…]')).toBe(true);
  });
});
