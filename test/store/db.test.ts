import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/store/db.js';
import { adminUrl, createTestDb, type TestDb } from '../helpers/test-db.js';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t?.drop());

/** Ends the server side of every connection of the test database but the caller's, as a restart does. */
async function terminateConnections(): Promise<number> {
  const admin = new pg.Client(adminUrl(t.url));
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [t.name],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe('a transaction whose connection is ended between two statements', () => {
  it('fails that transaction with the connection error, does not crash the process, and leaves the pool usable', async () => {
    let statementsDone!: () => void;
    const between = new Promise<void>((resolve) => {
      statementsDone = resolve;
    });
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let ended!: Promise<void>;
    const transaction = withTransaction(t.db, async (client) => {
      await client.query('SELECT 1');
      ended = new Promise((resolve) => client.once('end', () => resolve()));
      // The client is checked out and idle here: the pool no longer listens for its errors.
      statementsDone();
      await resumed;
      await client.query('SELECT 2');
    });
    const outcome = transaction.then(
      () => null,
      (error: unknown) => error,
    );
    await between;
    expect(await terminateConnections()).toBeGreaterThan(0);
    // The client has seen the server go: the moment an unhandled 'error' would have been thrown.
    await Promise.race([
      ended,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the connection did not end within 10 s')), 10_000),
      ),
    ]);
    resume();
    expect(await outcome).toBeInstanceOf(Error);
    const { rows } = await t.db.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]!.one).toBe(1);
  });
});
