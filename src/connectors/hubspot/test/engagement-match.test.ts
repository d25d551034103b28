import { describe, expect, it } from 'vitest';
import {
  CLOCK_MARGIN_MS,
  type EngagementTarget,
  isSameEngagement,
  type ReadEngagement,
  windowStart,
} from '../engagement-match.js';

const eventAt = '2026-11-22T10:30:00.000Z';

const call: EngagementTarget = {
  objectType: 'calls',
  properties: {
    hs_timestamp: '2026-11-22T09:00:00.000Z',
    hs_call_title: 'Intro call',
    hs_call_body: 'Discussed the renewal',
    hs_call_status: 'COMPLETED',
  },
  since: windowStart(eventAt),
};

const stored = (
  properties: Record<string, string | null>,
  createdAt = Date.parse(eventAt) + 1000,
): ReadEngagement => ({
  id: '7001',
  createdAt,
  properties: {
    hs_timestamp: '2026-11-22T09:00:00Z',
    hs_call_title: 'Intro call',
    hs_call_body: 'Discussed the renewal',
    ...properties,
  },
});

describe('what counts as the engagement an earlier attempt created', () => {
  it('is the same time, in whichever form HubSpot gives it, and the same text', () => {
    expect(isSameEngagement(call, stored({}))).toBe(true);
    expect(isSameEngagement(call, stored({ hs_timestamp: String(Date.parse('2026-11-22T09:00:00Z')) }))).toBe(
      true,
    );
    expect(isSameEngagement(call, stored({ hs_call_body: 'Discussed the renewal\r\n' }))).toBe(true);
  });

  it('is not an engagement at another time, or with another body or title', () => {
    expect(isSameEngagement(call, stored({ hs_timestamp: '2026-11-22T09:00:01Z' }))).toBe(false);
    expect(isSameEngagement(call, stored({ hs_call_body: 'Discussed the invoice' }))).toBe(false);
    expect(isSameEngagement(call, stored({ hs_call_title: 'Follow-up call' }))).toBe(false);
    expect(isSameEngagement(call, stored({ hs_call_title: null }))).toBe(false);
  });

  it('ignores what people change at HubSpot after the create, and takes absent text as empty', () => {
    expect(isSameEngagement(call, stored({ hs_call_status: 'NO_ANSWER' }))).toBe(true);
    const untitled = {
      ...call,
      properties: { hs_timestamp: call.properties.hs_timestamp!, hs_call_body: 'x' },
    };
    expect(isSameEngagement(untitled, stored({ hs_call_title: null, hs_call_body: 'x' }))).toBe(true);
    expect(isSameEngagement(untitled, stored({ hs_call_title: '', hs_call_body: 'x' }))).toBe(true);
  });

  it('was created after the CRM event, less the clock margin; an unknown creation time does not rule it out', () => {
    const event = Date.parse(eventAt);
    expect(isSameEngagement(call, stored({}, event - CLOCK_MARGIN_MS + 1))).toBe(true);
    expect(isSameEngagement(call, stored({}, event - CLOCK_MARGIN_MS - 1))).toBe(false);
    expect(isSameEngagement(call, stored({}, Number.NaN))).toBe(true);
  });
});
