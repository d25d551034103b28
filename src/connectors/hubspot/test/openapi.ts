import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/**
 * Validates request and response bodies against HubSpot's own OpenAPI documents in
 * ../shared/specs/hubspot (HUBSPOT_SPECS_DIR overrides), so the tests do not just echo our own
 * reading of the API. The folder exists in CI; elsewhere the checks are skipped, and say so.
 */
export const SPECS_DIR =
  process.env.HUBSPOT_SPECS_DIR ?? path.resolve(process.cwd(), '../shared/specs/hubspot');
export const specsAvailable = existsSync(path.join(SPECS_DIR, 'contacts.json'));
export const SPECS_MISSING = `HubSpot OpenAPI specs not found at ${SPECS_DIR}: schema validation skipped`;

// ajv-formats is CommonJS whose module.exports is the plugin itself; NodeNext types the default
// import as the module object, so name its real shape.
const addFormats = ajvFormats as unknown as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'])
  ajv.addFormat(format, true);

const loaded = new Set<string>();
const documents = new Map<string, OpenApiDocument>();

interface OpenApiDocument {
  paths?: Record<
    string,
    Record<string, { responses?: Record<string, { $ref?: string; content?: Record<string, unknown> }> }>
  >;
  components?: { responses?: Record<string, { content?: Record<string, unknown> }> };
}

function documentOf(file: string): OpenApiDocument {
  let document = documents.get(file);
  if (!document) {
    document = JSON.parse(readFileSync(path.join(SPECS_DIR, `${file}.json`), 'utf8')) as OpenApiDocument;
    documents.set(file, document);
  }
  return document;
}
const compiled = new Map<string, ValidateFunction>();

function load(file: string): string {
  const id = `hubspot-${file}`;
  if (!loaded.has(id)) {
    ajv.addSchema({ ...documentOf(file), $id: id });
    loaded.add(id);
  }
  return id;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function validator(file: string, ref: string): ValidateFunction {
  const key = `${file}#${ref}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: `${load(file)}#${ref}` });
    compiled.set(key, validate);
  }
  return validate;
}

function check(validate: ValidateFunction, body: unknown): string[] {
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '(body)'} ${e.message ?? 'invalid'} ${JSON.stringify(e.params)}`,
  );
}

/**
 * Problems of a request body against the operation's `requestBody` schema; [] when valid or
 * when the specs are absent.
 *
 * @example requestProblems('contacts', 'post', '/crm/v3/objects/contacts/batch/upsert', body)
 */
export function requestProblems(file: string, method: string, template: string, body: unknown): string[] {
  if (!specsAvailable) return [];
  const ref = `/${pointer('paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema')}`;
  return check(validator(file, ref), body);
}

/** Problems of a response body against the operation's schema for that status (or `default`). */
export function responseProblems(
  file: string,
  method: string,
  template: string,
  status: number,
  body: unknown,
): string[] {
  if (!specsAvailable) return [];
  const document = documentOf(file);
  const responses = document.paths?.[template]?.[method.toLowerCase()]?.responses ?? {};
  const code = String(status) in responses ? String(status) : 'default';
  const response = responses[code];
  if (!response) return [`no response ${status} documented for ${method.toUpperCase()} ${template}`];
  if (response.$ref) {
    const name = String(response.$ref).split('/').pop() as string;
    const ref = `/${pointer('components', 'responses', name, 'content', '*/*', 'schema')}`;
    const content = document.components?.responses?.[name]?.content ?? {};
    const type = Object.keys(content)[0];
    if (!type) return [];
    return check(validator(file, ref.replace('*~1*', pointer(type))), body);
  }
  const type = Object.keys(response.content ?? {})[0];
  if (!type) return body === undefined ? [] : ['a body where the spec documents none'];
  return check(
    validator(
      file,
      `/${pointer('paths', template, method.toLowerCase(), 'responses', code, 'content', type, 'schema')}`,
    ),
    body,
  );
}

/** Which spec document and path template documents a concrete request path. */
const OPERATIONS: [RegExp, (m: RegExpExecArray) => [string, string]][] = [
  [
    /^\/crm\/v3\/objects\/(\w+)\/(batch\/\w+|merge|search)$/,
    (m) => [m[1] as string, `/crm/v3/objects/${m[1]}/${m[2]}`],
  ],
  [/^\/crm\/v3\/objects\/(\w+)$/, (m) => [m[1] as string, `/crm/v3/objects/${m[1]}`]],
  [
    /^\/crm\/v4\/associations\/\w+\/\w+\/(batch\/\w+)$/,
    (m) => ['associations-v4', `/crm/v4/associations/{fromObjectType}/{toObjectType}/${m[1]}`],
  ],
  [/^\/crm\/v3\/lists$/, () => ['lists', '/crm/v3/lists']],
  [
    /^\/crm\/v3\/lists\/object-type-id\/[^/]+\/name\/[^/]+$/,
    () => ['lists', '/crm/v3/lists/object-type-id/{objectTypeId}/name/{listName}'],
  ],
  [
    /^\/crm\/v3\/lists\/\d+\/memberships\/(add|remove)$/,
    (m) => ['lists', `/crm/v3/lists/{listId}/memberships/${m[1]}`],
  ],
  [/^\/crm\/v3\/properties\/\w+$/, () => ['properties', '/crm/v3/properties/{objectType}']],
  [
    /^\/crm\/v3\/properties\/\w+\/batch\/create$/,
    () => ['properties', '/crm/v3/properties/{objectType}/batch/create'],
  ],
  [/^\/crm\/v3\/properties\/\w+\/groups$/, () => ['properties', '/crm/v3/properties/{objectType}/groups']],
  [
    /^\/crm\/v3\/properties\/\w+\/groups\/\w+$/,
    () => ['properties', '/crm/v3/properties/{objectType}/groups/{groupName}'],
  ],
];

/**
 * Problems of one answer the sandbox gave, against the spec of the operation it answered; null
 * when no spec document covers that path (or the specs are absent).
 */
export function sandboxAnswerProblems(entry: {
  method: string;
  path: string;
  status: number;
  answer: unknown;
}): string[] | null {
  if (!specsAvailable) return null;
  for (const [pattern, locate] of OPERATIONS) {
    const match = pattern.exec(entry.path);
    if (!match) continue;
    const [file, template] = locate(match);
    if (!existsSync(path.join(SPECS_DIR, `${file}.json`))) return null;
    return responseProblems(file, entry.method, template, entry.status, entry.answer);
  }
  return null;
}
