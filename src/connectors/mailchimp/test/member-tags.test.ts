import { describe, expect, it } from 'vitest';
import { planTags } from '../member-tags.js';

describe('planning member tags', () => {
  it('adds what the CRM wants and removes only what it set itself', () => {
    const plan = planTags({
      desired: ['vip', 'beta'],
      owned: ['vip', 'churn-risk'],
      present: ['vip', 'churn-risk', 'webinar'],
    });
    expect(plan.changes).toEqual([
      { name: 'beta', status: 'active' },
      { name: 'churn-risk', status: 'inactive' },
    ]);
    expect(plan.owned).toEqual(['vip', 'beta']);
  });

  it('never claims or removes a tag marketing already put on the member', () => {
    const plan = planTags({ desired: ['webinar'], owned: [], present: ['webinar'] });
    expect(plan).toEqual({ changes: [], owned: [] });
  });

  it('compares tag names case-insensitively, as Mailchimp does', () => {
    const plan = planTags({ desired: ['VIP'], owned: ['vip'], present: ['Vip'] });
    expect(plan.changes).toEqual([]);
    expect(plan.owned).toEqual(['vip']);
  });

  it('works from the link alone when the answer did not list the member’s tags', () => {
    const plan = planTags({ desired: ['a'], owned: ['b'] });
    expect(plan.changes).toEqual([
      { name: 'a', status: 'active' },
      { name: 'b', status: 'inactive' },
    ]);
  });
});
