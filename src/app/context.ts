import { Redis } from 'ioredis';
import { type Env, loadEnv } from '../config/env.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createDb, type Db } from '../store/db.js';

/**
 * The process's shared resources, created once and handed to whatever needs them (CLI
 * commands, the worker, the admin server). Nothing connects until it is first used.
 */
export interface AppContext {
  env: Env;
  logger: Logger;
  /** Postgres pool (lazy). */
  readonly db: Db;
  /** A new Redis connection configured for BullMQ; the context closes it on `close()`. */
  redis(): Redis;
  close(): Promise<void>;
}

export interface AppContextOptions {
  env?: Env;
  logger?: Logger;
}

export function createAppContext(options: AppContextOptions = {}): AppContext {
  const env = options.env ?? loadEnv();
  const logger = options.logger ?? createLogger({ level: env.CRM_SYNC_LOG_LEVEL });
  let db: Db | undefined;
  const connections: Redis[] = [];
  return {
    env,
    logger,
    get db() {
      db ??= createDb(env.DATABASE_URL);
      return db;
    },
    redis() {
      // BullMQ needs maxRetriesPerRequest: null on connections used for blocking commands.
      // Auto-pipelining sends the commands issued in one tick as one write: the engine issues
      // hundreds at once (job fetches and completions, store reads), and one write each cost
      // about a tenth of its CPU in syscalls (measured, docs/benchmarks.md).
      const connection = new Redis(env.REDIS_URL, {
        maxRetriesPerRequest: null,
        lazyConnect: false,
        enableAutoPipelining: true,
      });
      connection.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
      connections.push(connection);
      return connection;
    },
    async close() {
      await Promise.allSettled(connections.map((c) => c.quit().catch(() => c.disconnect())));
      connections.length = 0;
      if (db) await db.end().catch(() => {});
      db = undefined;
    },
  };
}
