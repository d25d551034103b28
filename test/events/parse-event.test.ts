import { afterAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/events/parse-event.js';
import { createTestDb } from '../helpers/test-db.js';

const base = {
  id: 'evt_1',
  type: 'CRM_CONTACT_CREATED',
  organizationId: 'org_1',
  occurredAt: '2026-11-22T10:30:00.000Z',
  data: { id: 42, email: 'ada@example.com' },
};

describe('parseEvent', () => {
  it('accepts a known event and fills the snapshot defaults', () => {
    const parsed = parseEvent(base);
    expect(parsed.kind).toBe('event');
    if (parsed.kind !== 'event') return;
    expect(parsed.event.source).toEqual({ module: 'CRM' });
    expect(parsed.event.type === 'CRM_CONTACT_CREATED' && parsed.event.data.tags).toEqual([]);
  });

  it('normalises a numeric organization id to a string', () => {
    const parsed = parseEvent({ ...base, organizationId: 7 });
    expect(parsed.kind === 'event' && parsed.event.organizationId).toBe('7');
  });

  it('recognises an unknown type without rejecting it', () => {
    expect(parseEvent({ ...base, type: 'CRM_DEAL_WON' }).kind).toBe('unknown_type');
  });

  it('names the path of every problem in a malformed event', () => {
    const parsed = parseEvent({
      ...base,
      occurredAt: 'yesterday',
      data: { id: 42, companies: [{ name: 'x' }] },
    });
    expect(parsed).toMatchObject({ kind: 'invalid', eventId: 'evt_1', type: 'CRM_CONTACT_CREATED' });
    if (parsed.kind !== 'invalid') return;
    expect(parsed.issues.map((i) => i.path)).toEqual(['occurredAt']);
    const second = parseEvent({ ...base, data: { id: 42, companies: [{ name: 'x' }] } });
    expect(second.kind === 'invalid' && second.issues.map((i) => i.path)).toEqual(['data.companies[0].id']);
  });
});

describe('test database', () => {
  it('is migrated from the template', async () => {
    const t = await createTestDb();
    afterAll(() => t.drop());
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM crm_sync.sync_links`);
    expect(rows[0].n).toBe(0);
  });
});
