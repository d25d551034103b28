import { describe, expect, it } from 'vitest';
import { SandboxStore } from '../sandbox/sandbox-store.js';

const ids = (objects: { id: string }[]) => objects.map((o) => o.id);

describe('the HubSpot sandbox store’s lookups by property', () => {
  it('finds records by a property case-insensitively, following every write', () => {
    const store = new SandboxStore();
    const ada = store.create('contacts', { email: 'Ada@Example.com', firstname: 'Ada' });
    expect(ids(store.findBy('contacts', 'email', 'ADA@example.com'))).toEqual([ada.id]);
    expect(ids(store.findBy('contacts', 'firstname', 'ada'))).toEqual([ada.id]);

    // Created after the index exists.
    const bob = store.create('contacts', { email: 'bob@example.com' });
    expect(ids(store.findBy('contacts', 'email', 'bob@example.com'))).toEqual([bob.id]);

    // An email change moves the record from the old value to the new one.
    store.update(ada, { email: 'augusta@example.com' });
    expect(store.findBy('contacts', 'email', 'ada@example.com')).toEqual([]);
    expect(ids(store.findBy('contacts', 'email', 'augusta@example.com'))).toEqual([ada.id]);

    // A value cleared with '' is gone from the lookup.
    store.update(ada, { firstname: '' });
    expect(store.findBy('contacts', 'firstname', 'ada')).toEqual([]);

    // A merge gives the primary the loser's values; the archived loser is no longer found.
    const carol = store.create('contacts', { email: 'carol@example.com', phone: '+44 20 1234' });
    store.merge('contacts', bob, carol);
    expect(ids(store.findBy('contacts', 'phone', '+44 20 1234'))).toEqual([bob.id]);
    expect(store.findBy('contacts', 'email', 'carol@example.com')).toEqual([]);

    store.archive('contacts', bob.id);
    expect(store.findBy('contacts', 'email', 'bob@example.com')).toEqual([]);
  });

  it('returns every live record sharing a value, oldest first, and keeps types apart', () => {
    const store = new SandboxStore();
    const first = store.create('companies', { domain: 'acme.com', name: 'Acme' });
    const second = store.create('companies', { domain: 'other.com', name: 'Acme' });
    expect(ids(store.findBy('companies', 'name', 'ACME'))).toEqual([first.id, second.id]);
    // `first` changes name and back: it re-enters the lookup after `second`, but is still listed first.
    store.update(first, { name: 'Acme Ltd' });
    store.update(first, { name: 'Acme' });
    expect(ids(store.findBy('companies', 'name', 'acme'))).toEqual([first.id, second.id]);
    expect(store.findBy('contacts', 'name', 'acme')).toEqual([]);
  });
});

describe('the HubSpot sandbox store’s associations', () => {
  it('lists a record’s associations by target type and moves the loser’s to the primary on merge', () => {
    const store = new SandboxStore();
    const ada = store.create('contacts', { email: 'ada@example.com' });
    const dup = store.create('contacts', { email: 'ada.l@example.com' });
    const acme = store.create('companies', { domain: 'acme.com' });
    const globex = store.create('companies', { domain: 'globex.com' });
    const call = store.create('calls', { hs_call_title: 'Intro' });

    store.associate('contacts', ada.id, 'companies', acme.id, [279]);
    store.associate('contacts', ada.id, 'companies', acme.id, [1]);
    store.associate('contacts', dup.id, 'companies', globex.id, [279]);
    store.associate('contacts', dup.id, 'calls', call.id, [193]);
    expect(store.associated('contacts', ada.id, 'companies')).toEqual([{ id: acme.id, types: [1, 279] }]);
    expect(store.associated('contacts', ada.id, 'calls')).toEqual([]);

    store.merge('contacts', ada, dup);
    expect(store.associated('contacts', ada.id, 'companies')).toEqual([
      { id: acme.id, types: [1, 279] },
      { id: globex.id, types: [279] },
    ]);
    expect(store.associationTypes('contacts', ada.id, 'calls', call.id)).toEqual([193]);
    expect(store.associated('contacts', dup.id, 'companies')).toEqual([]);

    store.dissociate('contacts', ada.id, 'companies', acme.id);
    expect(store.associated('contacts', ada.id, 'companies')).toEqual([{ id: globex.id, types: [279] }]);
  });
});
