import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BatchOperationResult, createMailchimpSandbox } from '../sandbox/index.js';
import { sandboxCall } from './sandbox-fixture.js';

/**
 * The sandbox's Batch Operations (POST /batches), spoken to over HTTP as a client would: the
 * batch answers `pending`, its operations run later through the member routes, and the results
 * come as a gzipped tar of JSON files from a link that needs no key.
 */
const sandbox = createMailchimpSandbox();
let url = '';
const newKey = () => `${randomBytes(16).toString('hex')}-us1`;
const key = newKey();
let lists = 0;

beforeAll(async () => {
  ({ url } = await sandbox.start());
  sandbox.addAccount(key, 'acme');
});
afterAll(() => sandbox.stop());
afterEach(() => {
  sandbox.faults.clear();
  sandbox.configure({ perSecond: null, maxConnections: 10, latencyMs: 0, batchDelayMs: 20 });
});

/** A new audience of the `acme` account (or another key's) with three members. */
function audience(apiKey = key) {
  lists += 1;
  const listId = `batch-list${lists}`;
  sandbox.addAudience({ id: listId, apiKey });
  const seed = (email: string) =>
    sandbox.seedMember(listId, { email, status: 'subscribed', mergeFields: { FNAME: 'Old' } });
  return { listId, ada: seed('ada@example.com'), bob: seed('bob@example.com'), cy: seed('cy@example.com') };
}

const call = (method: string, path: string, body?: unknown, apiKey = key) =>
  sandboxCall(url, apiKey, method, path, body);

const patch = (listId: string, ref: string, body: unknown, operation_id?: string) => ({
  method: 'PATCH',
  path: `/lists/${listId}/members/${ref}`,
  body: JSON.stringify(body),
  ...(operation_id ? { operation_id } : {}),
});

/** Polls GET /batches/{id} until `finished`; fails naming the last status after `timeoutMs`. */
async function finished(id: string, apiKey = key, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const read = await call('GET', `/batches/${id}`, undefined, apiKey);
    if (read.status !== 200) throw new Error(`GET /batches/${id} answered ${read.status}`);
    if (read.body.status === 'finished') return read.body;
    if (Date.now() > deadline)
      throw new Error(`batch ${id} not finished after ${timeoutMs} ms: ${JSON.stringify(read.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The archive's entries: name, tar type and text. */
async function entriesOf(archive: Buffer) {
  const tar = extract();
  Readable.from([gunzipSync(archive)]).pipe(tar);
  const entries: { name: string; type: string; text: string }[] = [];
  for await (const entry of tar) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.push({
      name: entry.header.name,
      type: entry.header.type,
      text: Buffer.concat(chunks).toString(),
    });
  }
  return entries;
}

/** Downloads a finished batch's results with no credentials, as from a pre-signed link. */
async function resultsOf(batch: { response_body_url: string }) {
  const answer = await fetch(batch.response_body_url);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('application/x-gzip');
  const entries = await entriesOf(Buffer.from(await answer.arrayBuffer()));
  const results = entries
    .filter((e) => e.type === 'file')
    .flatMap((e) => JSON.parse(e.text) as BatchOperationResult[]);
  return { entries, results };
}

describe('the Mailchimp sandbox’s batch operations', () => {
  it('runs PATCH operations later through the member routes and serves each answer in a gzipped tar', async () => {
    const { listId, ada, bob, cy } = audience();
    const submitted = await call('POST', '/batches', {
      operations: [
        patch(listId, ada.contact_id, { merge_fields: { FNAME: 'Ada' } }, 'op-ada'),
        patch(
          listId,
          'ffffffffffffffffffffffffffffffff',
          { merge_fields: { FNAME: 'Nobody' } },
          'op-missing',
        ),
        patch(listId, cy.contact_id, { merge_fields: { BIRTHDAY: 'someday' } }, 'op-bad-field'),
        patch(listId, bob.id, { merge_fields: { LNAME: 'Builder' } }),
        {
          method: 'POST',
          path: `/lists/${listId}/members/${bob.id}/tags`,
          body: '{"tags":[{"name":"vip","status":"active"}]}',
          operation_id: 'op-tag',
        },
        { method: 'GET', path: '/no/such/route', operation_id: 'op-nowhere' },
      ],
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({
      status: 'pending',
      total_operations: 6,
      finished_operations: 0,
      errored_operations: 0,
      completed_at: '',
      response_body_url: '',
    });
    expect(submitted.body.id).toMatch(/^[0-9a-f]{10}$/);
    expect(submitted.body.submitted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);

    const batch = await finished(submitted.body.id);
    expect(batch).toMatchObject({ total_operations: 6, finished_operations: 6, errored_operations: 3 });
    expect(batch.completed_at).toMatch(/\+00:00$/);
    expect(batch.response_body_url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/__sandbox/batch-results/${batch.id}-[0-9a-f]{32}\\.tar\\.gz$`),
    );

    const { entries, results } = await resultsOf(batch);
    expect(entries[0]).toMatchObject({ name: `${batch.id}/`, type: 'directory' });
    expect(results.map((r) => [r.operation_id, r.status_code])).toEqual([
      ['op-ada', 200],
      ['op-missing', 404],
      ['op-bad-field', 400],
      [null, 200],
      ['op-tag', 204],
      ['op-nowhere', 404],
    ]);
    const [ada200, missing404, badField400, bob200, tag204] = results.map((r) =>
      r.response === '' ? '' : JSON.parse(r.response),
    );
    expect(ada200).toMatchObject({ contact_id: ada.contact_id, merge_fields: { FNAME: 'Ada' } });
    expect(bob200).toMatchObject({ email_address: 'bob@example.com', merge_fields: { LNAME: 'Builder' } });
    expect(missing404).toMatchObject({ status: 404, title: 'Resource Not Found' });
    expect(badField400).toMatchObject({
      status: 400,
      title: 'Invalid Resource',
      errors: [{ field: 'BIRTHDAY', message: expect.any(String) }],
    });
    expect(tag204).toBe('');

    expect(sandbox.member(listId, 'ada@example.com')?.merge_fields).toMatchObject({ FNAME: 'Ada' });
    expect(sandbox.member(listId, 'bob@example.com')?.tags.map((t) => t.name)).toEqual(['vip']);
    expect(sandbox.member(listId, 'cy@example.com')?.merge_fields).toEqual({ FNAME: 'Old' });
  });

  it('spreads results over JSON files of 500 each, in operation order', async () => {
    const { listId, ada } = audience();
    const operations = Array.from({ length: 1001 }, (_, i) => ({
      method: 'GET',
      path: `/lists/${listId}/members/${ada.contact_id}`,
      params: { fields: ['email_address', 'status'] },
      operation_id: `read-${i}`,
    }));
    const submitted = await call('POST', '/batches', { operations });
    const batch = await finished(submitted.body.id);
    const { entries, results } = await resultsOf(batch);
    expect(entries.map((e) => e.name)).toEqual([
      `${batch.id}/`,
      `${batch.id}/0.json`,
      `${batch.id}/1.json`,
      `${batch.id}/2.json`,
    ]);
    expect(entries.slice(1).map((e) => JSON.parse(e.text).length)).toEqual([500, 500, 1]);
    expect(results.map((r) => r.operation_id)).toEqual(operations.map((o) => o.operation_id));
    expect(results.every((r) => r.status_code === 200)).toBe(true);
  });

  it('logs only the batch requests: operations count against neither the budget nor the connection cap', async () => {
    const { listId, ada, bob } = audience();
    sandbox.configure({ perSecond: 6, maxConnections: 1 });
    sandbox.traffic.reset();
    const operations = Array.from({ length: 30 }, (_, i) =>
      patch(listId, i % 2 ? ada.contact_id : bob.contact_id, { merge_fields: { LNAME: `L${i}` } }, `op-${i}`),
    );
    const submitted = await call('POST', '/batches', { operations });
    let batch = (await call('GET', `/batches/${submitted.body.id}`)).body;
    // Polls 250 ms apart stay within the budget of 6 a second, which 30 direct PATCHes would not.
    const deadline = Date.now() + 5000;
    while (batch.status !== 'finished' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      batch = (await call('GET', `/batches/${submitted.body.id}`)).body;
    }
    expect(batch).toMatchObject({ status: 'finished', finished_operations: 30, errored_operations: 0 });
    const { results } = await resultsOf(batch);
    expect(results).toHaveLength(30);

    const log = sandbox.traffic.log;
    expect(log.every((e) => e.status < 400)).toBe(true);
    expect(log.filter((e) => e.path.startsWith('/lists'))).toEqual([]);
    expect(log[0]).toMatchObject({ method: 'POST', path: '/batches', account: 'acme' });
    expect(log.at(-1)).toMatchObject({
      method: 'GET',
      path: expect.stringMatching(/^\/__sandbox\/batch-results\//),
    });
    expect(log.at(-1)?.account).toBeNull();
    expect(log.slice(1, -1).every((e) => e.method === 'GET' && e.path === `/batches/${batch.id}`)).toBe(true);
    expect(sandbox.member(listId, 'ada@example.com')?.merge_fields.LNAME).toBe('L29');
  });

  it('refuses a malformed batch with 400 Invalid Resource naming each bad operation and field', async () => {
    const before = sandbox.batches().length;
    const answer = await call('POST', '/batches', {
      operations: [
        { method: 'PATCH', path: '/lists/x/members/y', body: '{}' },
        { method: 'PATCH', path: '/lists/x/members/y', body: { merge_fields: {} } },
        { method: 'FETCH', path: '/lists/x' },
        { method: 'GET' },
        { method: 'GET', path: '/lists/x', operation_id: 7 },
      ],
    });
    expect(answer.status).toBe(400);
    expect(answer.type).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ title: 'Invalid Resource', status: 400 });
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'operations.1.body',
      'operations.2.method',
      'operations.3.path',
      'operations.4.operation_id',
    ]);
    const noOperations = await call('POST', '/batches', { ops: [] });
    expect(noOperations).toMatchObject({ status: 400, body: { errors: [{ field: 'operations' }] } });
    expect(sandbox.batches()).toHaveLength(before);
  });

  it('answers an operation whose body is not JSON with the JSON Parse Error a direct request gets', async () => {
    const { listId, ada } = audience();
    const submitted = await call('POST', '/batches', {
      operations: [
        { method: 'PATCH', path: `lists/${listId}/members/${ada.contact_id}`, body: '{"merge_fields":' },
      ],
    });
    const { results } = await resultsOf(await finished(submitted.body.id));
    expect(results[0]).toMatchObject({ status_code: 400, operation_id: null });
    expect(JSON.parse(results[0]?.response ?? '')).toMatchObject({ title: 'JSON Parse Error' });
  });

  it('keeps batches pending while held, and runs them once released', async () => {
    const { listId, ada } = audience();
    sandbox.configure({ batchDelayMs: 0 });
    sandbox.faults.holdBatches(true);
    const submitted = await call('POST', '/batches', {
      operations: [patch(listId, ada.contact_id, { merge_fields: { FNAME: 'Held' } }, 'held')],
    });
    for (let read = 0; read < 5; read++) {
      const status = await call('GET', `/batches/${submitted.body.id}`);
      expect(status.body).toMatchObject({ status: 'pending', finished_operations: 0, response_body_url: '' });
    }
    expect(sandbox.member(listId, 'ada@example.com')?.merge_fields.FNAME).toBe('Old');
    sandbox.faults.holdBatches(false);
    const batch = await finished(submitted.body.id);
    expect(batch.errored_operations).toBe(0);
    expect(sandbox.member(listId, 'ada@example.com')?.merge_fields.FNAME).toBe('Held');
  });

  it('shows a batch to its own account only, and runs its operations as that account', async () => {
    const { listId, ada } = audience();
    const otherKey = newKey();
    sandbox.addAccount(otherKey, 'rival');
    const mine = await call('POST', '/batches', { operations: [] });
    expect((await call('GET', `/batches/${mine.body.id}`, undefined, otherKey)).status).toBe(404);
    expect((await call('GET', '/batches', undefined, otherKey)).body).toMatchObject({
      batches: [],
      total_items: 0,
    });
    expect((await call('GET', '/batches/0000000000')).status).toBe(404);
    expect((await fetch(`${url}/batches/${mine.body.id}`)).status).toBe(401);

    const theirs = await call(
      'POST',
      '/batches',
      { operations: [patch(listId, ada.contact_id, { merge_fields: { FNAME: 'Hijacked' } }, 'cross')] },
      otherKey,
    );
    expect((await call('GET', `/batches/${theirs.body.id}`)).status).toBe(404);
    const { results } = await resultsOf(await finished(theirs.body.id, otherKey));
    // acme's audience does not exist for the rival's key, inside a batch as outside.
    expect(results[0]).toMatchObject({ status_code: 404, operation_id: 'cross' });
    expect(sandbox.member(listId, 'ada@example.com')?.merge_fields.FNAME).toBe('Old');
  });

  it('fails operations with faults that target their path or email, and leaves untargeted faults to requests', async () => {
    const { listId, ada, bob, cy } = audience();
    sandbox.faults.add({ method: 'PATCH', path: `/lists/${listId}/members/`, status: 503, times: 1 });
    sandbox.faults.failEmail('taken@example.com', {
      title: 'Invalid Resource',
      detail: 'Injected for the test',
    });
    const submitted = await call('POST', '/batches', {
      operations: [
        patch(listId, ada.contact_id, { merge_fields: { FNAME: 'First' } }, 'faulted'),
        patch(listId, bob.contact_id, { email_address: 'taken@example.com' }, 'bad-email'),
        patch(listId, cy.contact_id, { merge_fields: { FNAME: 'Third' } }, 'fine'),
      ],
    });
    // A rule without a path is about the HTTP exchange: it fails the next request, not an operation.
    sandbox.faults.add({ status: 500, times: 1 });
    expect((await call('GET', `/batches/${submitted.body.id}`)).status).toBe(500);
    const batch = await finished(submitted.body.id);
    const { results } = await resultsOf(batch);
    expect(results.map((r) => [r.operation_id, r.status_code])).toEqual([
      ['faulted', 503],
      ['bad-email', 400],
      ['fine', 200],
    ]);
    expect(JSON.parse(results[1]?.response ?? '')).toMatchObject({ detail: 'Injected for the test' });
    expect(batch.errored_operations).toBe(2);
    expect(sandbox.member(listId, 'ada@example.com')?.merge_fields.FNAME).toBe('Old');
    expect(sandbox.member(listId, 'cy@example.com')?.merge_fields.FNAME).toBe('Third');
  });

  it('fails the results download once with a fault on its link, and refuses a link with the wrong token', async () => {
    const submitted = await call('POST', '/batches', { operations: [] });
    const batch = await finished(submitted.body.id);
    sandbox.faults.add({ path: '/__sandbox/batch-results/', status: 503, times: 1 });
    expect((await fetch(batch.response_body_url)).status).toBe(503);
    const { entries } = await resultsOf(batch);
    expect(entries).toEqual([{ name: `${batch.id}/`, type: 'directory', text: '' }]);
    const forged = batch.response_body_url.replace(/-[0-9a-f]{32}\./, `-${'0'.repeat(32)}.`);
    expect((await fetch(forged)).status).toBe(403);
  });

  it('forgets a deleted batch: its status and results are gone', async () => {
    const submitted = await call('POST', '/batches', { operations: [] });
    const batch = await finished(submitted.body.id);
    expect((await call('DELETE', `/batches/${batch.id}`)).status).toBe(204);
    expect((await call('GET', `/batches/${batch.id}`)).status).toBe(404);
    expect((await fetch(batch.response_body_url)).status).toBe(403);
    expect(sandbox.batches().find((b) => b.id === batch.id)?.status).toBe('deleted');
  });
});

describe('member reads and tag changes as batch operations', () => {
  it('answers a GET member with only the `params.fields` asked for, an archived member too, whose tags POST is a 404', async () => {
    const { listId, ada, bob } = audience();
    sandbox.audience(listId).archive(bob.id);
    const read = (ref: string, operation_id: string) => ({
      method: 'GET',
      path: `/lists/${listId}/members/${ref}`,
      params: { fields: 'id,status,tags' },
      operation_id,
    });
    const submitted = await call('POST', '/batches', {
      operations: [
        read(ada.contact_id, 'read-ada'),
        read(bob.contact_id, 'read-bob'),
        {
          method: 'POST',
          path: `/lists/${listId}/members/${ada.contact_id}/tags`,
          body: JSON.stringify({ tags: [{ name: 'vip', status: 'active' }] }),
          operation_id: 'tag-ada',
        },
        {
          method: 'POST',
          path: `/lists/${listId}/members/${bob.contact_id}/tags`,
          body: JSON.stringify({ tags: [{ name: 'vip', status: 'active' }] }),
          operation_id: 'tag-bob',
        },
      ],
    });
    const { results } = await resultsOf(await finished(submitted.body.id));
    expect(results.map((r) => [r.operation_id, r.status_code])).toEqual([
      ['read-ada', 200],
      ['read-bob', 200],
      ['tag-ada', 204],
      ['tag-bob', 404],
    ]);
    expect(JSON.parse(results[0]?.response ?? '')).toEqual({ id: ada.id, status: 'subscribed', tags: [] });
    expect(JSON.parse(results[1]?.response ?? '')).toEqual({ id: bob.id, status: 'archived', tags: [] });
    expect(results[2]?.response).toBe('');
    expect(sandbox.member(listId, 'ada@example.com')?.tags.map((t) => t.name)).toEqual(['vip']);
  });
});
