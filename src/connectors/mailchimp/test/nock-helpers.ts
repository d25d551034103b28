import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import nock from 'nock';
import { pack } from 'tar-stream';

export const KEY_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-us6';
export const KEY_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-us6';
export const API = 'https://us6.api.mailchimp.com';
export const LIST = 'list1';

/** Computed here, not with the connector's helper, so a wrong hash in a path would show. */
export const md5 = (email: string) => createHash('md5').update(email.toLowerCase()).digest('hex');
export const basic = (key: string) => `Basic ${Buffer.from(`user:${key}`).toString('base64')}`;

/** A scope that only answers requests carrying this key. */
export const mailchimp = (key = KEY_A, base = API) =>
  nock(base, { reqheaders: { authorization: basic(key) } });

export const STOCK_FIELDS = [
  { tag: 'FNAME', name: 'First Name', type: 'text', options: {} },
  { tag: 'LNAME', name: 'Last Name', type: 'text', options: {} },
];

export function mergeFields(scope: nock.Scope, fields: unknown[] = STOCK_FIELDS, list = LIST): nock.Scope {
  return scope
    .get(`/3.0/lists/${list}/merge-fields`)
    .query({ count: '1000', offset: '0' })
    .reply(200, { merge_fields: fields, total_items: fields.length });
}

export function memberAnswer(email: string, extra: Record<string, unknown> = {}) {
  return {
    id: md5(email),
    email_address: email,
    contact_id: `cid_${md5(email).slice(0, 8)}`,
    status: 'subscribed',
    merge_fields: {},
    tags: [],
    last_changed: '2026-11-22T10:30:05+00:00',
    ...extra,
  };
}

export const problem = (status: number, title: string, detail: string) => ({
  type: 'https://mailchimp.com/developer/marketing/docs/errors/',
  title,
  status,
  detail,
  instance: 'a1b2',
});

/** Where Mailchimp's pre-signed batch results links point (S3). */
export const RESULTS_HOST = 'https://mailchimp-api-batch.s3.amazonaws.com';

/** A results archive as Mailchimp serves it: gzip'd tar, a directory entry, JSON arrays in files. */
export async function resultsArchive(id: string, files: unknown[][]): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: id, type: 'directory' });
  for (const [i, results] of files.entries()) tar.entry({ name: `${id}/${i}.json` }, JSON.stringify(results));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/**
 * One batch run as Mailchimp answers it: the submit (exact operations), one status read that
 * finds it finished, and the results archive behind a pre-signed link that must not get the key.
 */
export async function fakeRun(
  scope: nock.Scope,
  id: string,
  operations: nock.DataMatcherMap[],
  results: unknown[] | 'unreadable',
) {
  scope
    .post('/3.0/batches', { operations })
    .reply(200, { id, status: 'pending', total_operations: operations.length })
    .get(`/3.0/batches/${id}`)
    .reply(200, {
      id,
      status: 'finished',
      total_operations: operations.length,
      finished_operations: operations.length,
      response_body_url: `${RESULTS_HOST}/${id}.tar.gz?X-Amz-Signature=sig`,
    });
  return nock(RESULTS_HOST, { badheaders: ['authorization'] })
    .get(`/${id}.tar.gz`)
    .query({ 'X-Amz-Signature': 'sig' })
    .reply(200, results === 'unreadable' ? 'not a tar' : await resultsArchive(id, [results]), {
      'content-type': 'application/x-gzip',
    });
}
