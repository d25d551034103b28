import pg from 'pg';

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;

// bigint columns (ids, versions) come back as strings by default; they fit in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export function createDb(connectionString: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString, max, application_name: 'crm-sync' });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Runs `fn` in one transaction; rolls back on any error and rethrows it. */
export async function withTransaction<T>(db: Db, fn: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  // The pool stops listening for a client's errors while it is checked out. A connection ended
  // between two statements (a Postgres restart, a failover) would then be an unhandled 'error'
  // and take the whole process down; here it only fails the transaction (its next statement
  // fails), and the broken client is destroyed instead of going back to the pool.
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(lost);
  }
}
