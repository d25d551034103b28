import { type PropertyProblem, problem } from './sandbox-errors.js';
import { defaultProperties, type SandboxProperty } from './sandbox-properties.js';

export interface StoredObject {
  id: string;
  type: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  /** Set when a merge folded this record into another one. */
  mergedInto?: string | undefined;
}

export interface StoredList {
  listId: string;
  name: string;
  objectTypeId: string;
  processingType: string;
  createdAt: string;
  members: Set<string>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const OBJECT_TYPE_IDS: Record<string, string> = {
  contacts: '0-1',
  companies: '0-2',
  notes: '0-46',
  calls: '0-48',
  emails: '0-49',
  meetings: '0-47',
  tasks: '0-27',
};

/** The sandbox's in-memory HubSpot account: records, associations, lists, property catalog. */
export class SandboxStore {
  private nextId = 100_001;
  readonly objects = new Map<string, Map<string, StoredObject>>();
  readonly properties = defaultProperties();
  readonly groups = new Map<
    string,
    Map<string, { name: string; label: string; displayOrder: number; archived: boolean }>
  >();
  /** By record (`type:id`), then by associated record (`type:id`): the association type ids. */
  private readonly associations = new Map<string, Map<string, Set<number>>>();
  readonly lists = new Map<string, StoredList>();
  private readonly indexes = new Map<string, Map<string, Map<string, Set<StoredObject>>>>();

  newId(): string {
    this.nextId += 1;
    return String(this.nextId);
  }

  objectTypeId(type: string): string {
    return OBJECT_TYPE_IDS[type] ?? '2-1';
  }

  table(type: string): Map<string, StoredObject> {
    let table = this.objects.get(type);
    if (!table) {
      table = new Map();
      this.objects.set(type, table);
    }
    return table;
  }

  knows(type: string): boolean {
    return type in this.properties;
  }

  get(type: string, id: string): StoredObject | undefined {
    const found = this.table(type).get(id);
    return found && !found.archived ? found : undefined;
  }

  /** Live records whose property equals the value (emails and domains compared case-insensitively). */
  findBy(type: string, property: string, value: string): StoredObject[] {
    const found = this.indexOf(type, property).get(value.toLowerCase());
    if (!found) return [];
    const live = [...found].filter((o) => !o.archived);
    return live.length > 1 ? live.sort((a, b) => Number(a.id) - Number(b.id)) : live;
  }

  /**
   * Records by (lowercased) property value, built on the first lookup of that property and kept
   * up to date by every write below: a scan per lookup made a 10,000-contact upsert by email
   * quadratic, and the sandbox's CPU came out of the engine's on a shared machine.
   */
  private indexOf(type: string, property: string): Map<string, Set<StoredObject>> {
    let byProperty = this.indexes.get(type);
    if (!byProperty) {
      byProperty = new Map();
      this.indexes.set(type, byProperty);
    }
    let index = byProperty.get(property);
    if (!index) {
      index = new Map();
      byProperty.set(property, index);
      for (const object of this.table(type).values()) {
        const v = object.properties[property];
        if (v !== undefined) addTo(index, v.toLowerCase(), object);
      }
    }
    return index;
  }

  /** Sets (or with undefined, removes) a property, keeping the indexes of its type true. */
  private setProperty(object: StoredObject, name: string, value: string | undefined): void {
    const index = this.indexes.get(object.type)?.get(name);
    const before = object.properties[name];
    if (index && before !== undefined) index.get(before.toLowerCase())?.delete(object);
    if (value === undefined) delete object.properties[name];
    else {
      object.properties[name] = value;
      if (index) addTo(index, value.toLowerCase(), object);
    }
  }

  /** Problems HubSpot would report for these property values, in its words. */
  validate(type: string, properties: Record<string, unknown>): PropertyProblem[] {
    const catalog = new Map((this.properties[type] ?? []).map((p) => [p.name, p]));
    const problems: PropertyProblem[] = [];
    for (const [name, raw] of Object.entries(properties)) {
      const definition = catalog.get(name);
      const value = typeof raw === 'string' ? raw : String(raw);
      if (!definition || definition.archived) {
        problems.push(problem(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`));
        continue;
      }
      if (definition.modificationMetadata.readOnlyValue) {
        problems.push(
          problem(name, 'READ_ONLY_VALUE', `"${name}" is a read only property; its value cannot be set.`),
        );
        continue;
      }
      if (value === '') continue;
      const issue = this.valueProblem(definition, value);
      if (issue) problems.push(issue);
    }
    return problems;
  }

  private valueProblem(p: SandboxProperty, value: string): PropertyProblem | null {
    if (p.name === 'email' && !EMAIL.test(value))
      return problem(p.name, 'INVALID_EMAIL', `Email address ${value} is invalid`);
    if (p.type === 'enumeration') {
      const allowed = p.options.map((o) => o.value);
      const values = p.fieldType === 'checkbox' ? value.split(';') : [value];
      const bad = values.find((v) => !allowed.includes(v));
      if (bad !== undefined) {
        return problem(
          p.name,
          'INVALID_OPTION',
          `${bad} was not one of the allowed options: [${allowed.join(', ')}]`,
        );
      }
    }
    if (p.type === 'number' && !Number.isFinite(Number(value))) {
      return problem(p.name, 'INVALID_LONG', `${value} is not a valid number for ${p.name}`);
    }
    if (
      (p.type === 'date' || p.type === 'datetime') &&
      Number.isNaN(Date.parse(value)) &&
      !/^\d+$/.test(value)
    ) {
      return problem(p.name, 'INVALID_DATE', `${value} is not a valid date for ${p.name}`);
    }
    if (p.type === 'bool' && value !== 'true' && value !== 'false') {
      return problem(p.name, 'INVALID_BOOLEAN', `${value} is not a valid boolean for ${p.name}`);
    }
    return null;
  }

  create(type: string, properties: Record<string, string>): StoredObject {
    const now = new Date().toISOString();
    const id = this.newId();
    const object: StoredObject = {
      id,
      type,
      properties: { ...clean(properties), hs_object_id: id, createdate: now, hs_lastmodifieddate: now },
      createdAt: now,
      updatedAt: now,
      archived: false,
    };
    if (type === 'contacts' && object.properties.email)
      object.properties.email = object.properties.email.toLowerCase();
    this.table(type).set(id, object);
    for (const [name, index] of this.indexes.get(type) ?? []) {
      const v = object.properties[name];
      if (v !== undefined) addTo(index, v.toLowerCase(), object);
    }
    return object;
  }

  update(object: StoredObject, properties: Record<string, string>): StoredObject {
    const now = new Date().toISOString();
    for (const [name, value] of Object.entries(properties)) {
      this.setProperty(
        object,
        name,
        value === '' ? undefined : name === 'email' ? value.toLowerCase() : value,
      );
    }
    this.setProperty(object, 'hs_lastmodifieddate', now);
    object.updatedAt = now;
    return object;
  }

  archive(type: string, id: string): void {
    const object = this.table(type).get(id);
    if (object) object.archived = true;
  }

  /**
   * Associates two records both ways, as HubSpot does: the reverse side gets the paired type id
   * (note → contact 202 is contact → note 201), so a contact lists the notes created with it.
   */
  associate(fromType: string, fromId: string, toType: string, toId: string, typeIds: number[]): void {
    this.link(fromType, fromId, toType, toId, typeIds);
    this.link(
      toType,
      toId,
      fromType,
      fromId,
      typeIds.map((id) => inverseTypeId(fromType, toType, id)),
    );
  }

  dissociate(fromType: string, fromId: string, toType: string, toId: string): void {
    this.associations.get(`${fromType}:${fromId}`)?.delete(`${toType}:${toId}`);
    this.associations.get(`${toType}:${toId}`)?.delete(`${fromType}:${fromId}`);
  }

  private link(fromType: string, fromId: string, toType: string, toId: string, typeIds: number[]): void {
    const from = `${fromType}:${fromId}`;
    const targets = this.associations.get(from) ?? new Map<string, Set<number>>();
    this.associations.set(from, targets);
    const to = `${toType}:${toId}`;
    const set = targets.get(to) ?? new Set<number>();
    for (const id of typeIds) set.add(id);
    targets.set(to, set);
  }

  /** Association type ids from one record to another (empty when none). */
  associationTypes(fromType: string, fromId: string, toType: string, toId: string): number[] {
    const set = this.associations.get(`${fromType}:${fromId}`)?.get(`${toType}:${toId}`);
    return [...(set ?? [])].sort((a, b) => a - b);
  }

  /** Every record of `toType` the record is associated with. */
  associated(fromType: string, fromId: string, toType: string): { id: string; types: number[] }[] {
    const prefix = `${toType}:`;
    return [...(this.associations.get(`${fromType}:${fromId}`) ?? [])]
      .filter(([to]) => to.startsWith(prefix))
      .map(([to, types]) => ({ id: to.slice(prefix.length), types: [...types].sort((a, b) => a - b) }));
  }

  /** HubSpot's merge: the primary keeps its id and gains the loser's missing values and associations. */
  merge(type: string, primary: StoredObject, loser: StoredObject): StoredObject {
    for (const [name, value] of Object.entries(loser.properties)) {
      if (primary.properties[name] === undefined) this.setProperty(primary, name, value);
    }
    const loserKey = `${type}:${loser.id}`;
    for (const [to, types] of this.associations.get(loserKey) ?? []) {
      const [toType, toId] = to.split(':') as [string, string];
      this.associations.get(to)?.delete(loserKey);
      this.associate(type, primary.id, toType, toId, [...types]);
    }
    this.associations.delete(loserKey);
    for (const list of this.lists.values()) {
      if (list.members.delete(loser.id)) list.members.add(primary.id);
    }
    loser.archived = true;
    loser.mergedInto = primary.id;
    primary.updatedAt = new Date().toISOString();
    return primary;
  }

  createList(name: string, objectTypeId: string, processingType: string): StoredList {
    const list: StoredList = {
      listId: String(this.lists.size + 1),
      name,
      objectTypeId,
      processingType,
      createdAt: new Date().toISOString(),
      members: new Set(),
    };
    this.lists.set(list.listId, list);
    return list;
  }

  /** Every live record of a type (for tests and the demo). */
  all(type: string): StoredObject[] {
    return [...this.table(type).values()].filter((o) => !o.archived);
  }
}

/**
 * The type id of an association seen from its other end. HubSpot defines its types in pairs
 * (2k-1, 2k): contact → company 279 / company → contact 280, primary 1 / 2, contact → note 201 /
 * note → contact 202 (the SDK's `AssociationTypes` bear it out for every pair it lists); an
 * association between two records of one type (contact ↔ contact 449) is its own inverse.
 */
function inverseTypeId(fromType: string, toType: string, typeId: number): number {
  if (fromType === toType) return typeId;
  return typeId % 2 === 1 ? typeId + 1 : typeId - 1;
}

function addTo(index: Map<string, Set<StoredObject>>, key: string, object: StoredObject): void {
  const set = index.get(key);
  if (set) set.add(object);
  else index.set(key, new Set([object]));
}

function clean(properties: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== ''));
}
