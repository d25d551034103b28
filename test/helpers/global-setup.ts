import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadEnv } from '../../src/config/env.js';
import { migrate } from '../../src/store/migrate.js';
import { adminUrl, withDatabase } from './test-db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
  }
}

/**
 * Migrates one template database per run; every test file then clones it (CREATE DATABASE …
 * TEMPLATE), which takes milliseconds and gives each file a database of its own. The name is
 * unique per run so that two runs on one machine never drop each other's template.
 */
export default async function setup(project: TestProject) {
  const env = loadEnv();
  const templateDb = `crm_sync_tpl_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(adminUrl(env.DATABASE_URL));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${templateDb}`);
  } finally {
    await admin.end();
  }
  await migrate({ databaseUrl: withDatabase(env.DATABASE_URL, templateDb) });
  project.provide('templateDb', templateDb);

  return async function teardown() {
    const a = new pg.Client(adminUrl(env.DATABASE_URL));
    await a.connect();
    try {
      await a.query(`DROP DATABASE IF EXISTS ${templateDb} WITH (FORCE)`);
    } finally {
      await a.end();
    }
  };
}
