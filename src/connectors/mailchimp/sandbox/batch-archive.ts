import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { pack } from 'tar-stream';

/** One operation's outcome as Mailchimp writes it into a batch's results archive. */
export interface BatchOperationResult {
  status_code: number;
  operation_id: string | null;
  /** The JSON text the route answered: the resource, a problem document, or '' for a 204. */
  response: string;
}

/** Mailchimp spreads a big batch's results over several files; clients must read them all. */
export const RESULTS_PER_FILE = 500;

const gzipped = promisify(gzip);

/**
 * The results archive a finished batch's `response_body_url` serves: a gzip-compressed tar with
 * a directory entry `<id>/` (so clients must skip entries that are not files) and the results in
 * order, `RESULTS_PER_FILE` a file, as `<id>/0.json`, `<id>/1.json`, … each a JSON array.
 * tar-stream writes the tar (the format's headers, checksums and padding are not worth our own
 * code, and the connector reads archives with the same library); node:zlib compresses it.
 *
 * @example
 * const archive = await packBatchResults('4f2a9c1e07', [{ status_code: 200, operation_id: 'a', response: '{}' }]);
 */
export async function packBatchResults(id: string, results: BatchOperationResult[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  })();
  const mtime = new Date();
  tar.entry({ name: `${id}/`, type: 'directory', mtime });
  for (let file = 0; file * RESULTS_PER_FILE < results.length; file++) {
    const slice = results.slice(file * RESULTS_PER_FILE, (file + 1) * RESULTS_PER_FILE);
    tar.entry({ name: `${id}/${file}.json`, mtime }, JSON.stringify(slice));
  }
  tar.finalize();
  await collected;
  return gzipped(Buffer.concat(chunks));
}
