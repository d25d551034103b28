import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { z } from 'zod';
import { BatchOperationResult } from './responses.js';

const ResultsFile = z.array(BatchOperationResult);

/**
 * Reads a finished batch's results archive: a gzip-compressed tar of JSON files, each an array of
 * `{ status_code, operation_id, response }` (Mailchimp spreads a big batch over several files).
 * Directory entries and anything not `.json` are skipped. tar-stream reads the archive: the
 * format's padding, long names and typeflags are not worth a hand-written parser.
 * An entry that is not such an array throws, naming the file: a batch whose outcome cannot be
 * read must be retried, not guessed.
 */
export async function readBatchResults(archive: Buffer): Promise<BatchOperationResult[]> {
  const tar = extract();
  Readable.from([gunzipSync(archive)]).pipe(tar);
  const results: BatchOperationResult[] = [];
  for await (const entry of tar) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, type } = entry.header;
    if (type !== 'file' || !name.endsWith('.json')) continue;
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`batch results file ${name} is not JSON`);
    }
    const parsed = ResultsFile.safeParse(json);
    if (!parsed.success)
      throw new Error(`batch results file ${name}: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}`);
    results.push(...parsed.data);
  }
  return results;
}
