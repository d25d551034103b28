import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../logging/logger.js';

// Migrations ship as .sql files beside this module (copied into dist by the build).
const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface MigrateOptions {
  databaseUrl: string;
  direction?: 'up' | 'down';
  count?: number;
  logger?: Logger;
}

/**
 * Brings schema `crm_sync` up to date. Safe to run from several processes at once: node-pg-migrate
 * takes an advisory lock, and `wait` makes latecomers wait for it instead of failing.
 */
export async function migrate({ databaseUrl, direction = 'up', count, logger }: MigrateOptions) {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction,
    count: count ?? Number.POSITIVE_INFINITY,
    migrationsTable: 'pgmigrations',
    migrationsSchema: 'crm_sync',
    createMigrationsSchema: true,
    checkOrder: true,
    advisoryLockMode: 'wait',
    log: (msg: string) => logger?.debug({ migration: msg }, 'migrate'),
  });
  return applied.map((m) => m.name);
}
