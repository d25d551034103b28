import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { createDb, type Db } from '../../src/store/db.js';

/** The same server, database `postgres`: where databases are created and dropped. */
export function adminUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDb {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A migrated database of the test file's own, cloned from the template the global setup made.
 * Call `drop()` in afterAll.
 */
export async function createTestDb(): Promise<TestDb> {
  const env = loadEnv();
  const name = `crm_sync_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(adminUrl(env.DATABASE_URL));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDb')}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(env.DATABASE_URL, name);
  const db = createDb(url, 5);
  return {
    db,
    url,
    name,
    async drop() {
      await db.end();
      const a = new pg.Client(adminUrl(env.DATABASE_URL));
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * An integration row and nothing else (no credentials, no config): what repository tests need
 * for the foreign keys of their own rows. Returns its id.
 */
export async function insertBareIntegration(db: Db, key: string, provider: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO crm_sync.integrations (key, organization_id, provider, name, credentials, config, config_hash)
     VALUES ($1, 'org_1', $2, $1, 'x', '{}', 'h') RETURNING id`,
    [key, provider],
  );
  return rows[0]!.id;
}
