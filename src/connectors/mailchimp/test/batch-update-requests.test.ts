import { gzipSync } from 'node:zlib';
import nock from 'nock';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { useStrictNock } from '../../../../test/helpers/strict-nock.js';
import { contact, crmEvent, errorResult, harness, okResult, payloadOf, record } from './fixtures.js';
import { KEY_A, LIST, mailchimp, md5, memberAnswer, mergeFields, problem } from './nock-helpers.js';

useStrictNock();

const RESULTS_HOST = 'https://mailchimp-api-batch.s3.amazonaws.com';

/** A results archive as Mailchimp serves it: gzip'd tar, a directory entry, JSON arrays in files. */
async function resultsArchive(files: unknown[][]): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: 'b1', type: 'directory' });
  for (const [i, results] of files.entries()) tar.entry({ name: `b1/${i}.json` }, JSON.stringify(results));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

const linkedUpdate = (i: number) => {
  const email = `m${i}@example.com`;
  const c = contact(i + 1, email, { givenName: `M${i}` });
  return record({
    operation: 'upsert',
    event: crmEvent('CRM_CONTACT_UPDATED', c),
    entityId: String(i + 1),
    payload: payloadOf(c),
    externalId: `cid_${i}`,
    state: {
      listId: LIST,
      memberId: `cid_${i}`,
      subscriberHash: md5(email),
      email,
      status: 'subscribed',
      tags: [],
    },
  });
};

describe('Mailchimp batch updates of linked members', () => {
  it('sends ten or more linked updates as one batch run, polls it, and reads each member’s answer from the archive', async () => {
    const updates = Array.from({ length: 10 }, (_, i) => linkedUpdate(i));
    const archive = await resultsArchive([
      Array.from({ length: 6 }, (_, i) => ({
        status_code: 200,
        operation_id: String(i),
        response: JSON.stringify(memberAnswer(`m${i}@example.com`, { contact_id: `cid_${i}` })),
      })),
      [
        ...[6, 7, 8].map((i) => ({
          status_code: 200,
          operation_id: String(i),
          response: JSON.stringify(
            memberAnswer(`m${i}@example.com`, { contact_id: `cid_${i}`, status: 'unsubscribed' }),
          ),
        })),
        {
          status_code: 404,
          operation_id: '9',
          response: JSON.stringify(
            problem(404, 'Resource Not Found', 'The requested resource could not be found.'),
          ),
        },
      ],
    ]);
    const scope = mergeFields(mailchimp())
      .post('/3.0/batches', {
        operations: updates.map((_, i) => ({
          method: 'PATCH',
          path: `/lists/${LIST}/members/cid_${i}`,
          body: JSON.stringify({ merge_fields: { FNAME: `M${i}`, LNAME: 'Lovelace' } }),
          operation_id: String(i),
        })),
      })
      .reply(200, { id: 'b1', status: 'pending', total_operations: 10 })
      .get('/3.0/batches/b1')
      .reply(200, { id: 'b1', status: 'started', total_operations: 10, finished_operations: 4 })
      .get('/3.0/batches/b1')
      .reply(200, {
        id: 'b1',
        status: 'finished',
        total_operations: 10,
        finished_operations: 10,
        errored_operations: 1,
        response_body_url: `${RESULTS_HOST}/b1-results.tar.gz?X-Amz-Signature=abc`,
      });
    // Member 9's 404: the audience is read once to tell a deleted member from a deleted audience.
    scope.get(`/3.0/lists/${LIST}`).query({ fields: 'id,name' }).reply(200, { id: LIST, name: 'Newsletter' });
    // The pre-signed link must never receive the API key.
    const download = nock(RESULTS_HOST, { badheaders: ['authorization'] })
      .get('/b1-results.tar.gz')
      .query({ 'X-Amz-Signature': 'abc' })
      .reply(200, archive, { 'content-type': 'application/x-gzip' });

    const h = harness({ listId: LIST }, KEY_A);
    const results = await h.push(updates);
    for (let i = 0; i < 9; i++)
      expect(okResult(results[i]).state, `member ${i}`).toMatchObject({
        memberId: `cid_${i}`,
        status: i >= 6 ? 'unsubscribed' : 'subscribed',
      });
    expect(errorResult(results[9])).toMatchObject({ kind: 'permanent', code: 'MEMBER_GONE' });
    // The merge-field read, the submit, two status reads, the download and the audience read:
    // six, not ten PATCHes.
    expect(h.ctx.calls).toBe(6);
    scope.done();
    download.done();
  });

  it('cancels a batch Mailchimp has not finished within batchTimeoutMs and retries its records', async () => {
    const updates = Array.from({ length: 3 }, (_, i) => linkedUpdate(i));
    const scope = mergeFields(mailchimp())
      .post('/3.0/batches')
      .reply(200, { id: 'b2', status: 'pending' })
      .get('/3.0/batches/b2')
      .times(2)
      .reply(200, { id: 'b2', status: 'pending' })
      // Stopped, so it cannot apply these updates after their retries (and newer writes) have.
      .delete('/3.0/batches/b2')
      .reply(204);
    const h = harness({ listId: LIST, batchUpdatesFrom: 2, batchTimeoutMs: 1000 }, KEY_A);
    const results = await h.push(updates);
    for (const result of results)
      expect(errorResult(result)).toMatchObject({ kind: 'retryable', code: 'BATCH_TIMEOUT' });
    scope.done();
  });

  it('updates fewer linked members than batchUpdatesFrom one PATCH each', async () => {
    const scope = mergeFields(mailchimp())
      .patch(`/3.0/lists/${LIST}/members/cid_0`)
      .reply(200, memberAnswer('m0@example.com', { contact_id: 'cid_0' }))
      .patch(`/3.0/lists/${LIST}/members/cid_1`)
      .reply(200, memberAnswer('m1@example.com', { contact_id: 'cid_1' }));
    const h = harness({ listId: LIST, batchUpdatesFrom: 3 }, KEY_A);
    const results = await h.push([linkedUpdate(0), linkedUpdate(1)]);
    for (const result of results) okResult(result);
    scope.done();
  });

  it('retries the records when the results archive cannot be read', async () => {
    const scope = mergeFields(mailchimp())
      .post('/3.0/batches')
      .reply(200, { id: 'b3', status: 'finished', response_body_url: `${RESULTS_HOST}/b3.tar.gz` });
    const download = nock(RESULTS_HOST).get('/b3.tar.gz').reply(200, Buffer.from('not an archive'));
    const h = harness({ listId: LIST, batchUpdatesFrom: 2 }, KEY_A);
    const results = await h.push([linkedUpdate(0), linkedUpdate(1)]);
    for (const result of results)
      expect(errorResult(result)).toMatchObject({ kind: 'retryable', code: 'BATCH_RESULTS_UNREADABLE' });
    scope.done();
    download.done();
  });
});
