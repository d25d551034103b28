// Redis for crm-sync: check REDIS_URL, find a server on the default port, or run a
// redis-server of the project's own (daemonized, no persistence) with its files under
// the local state folder.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { isAlive, pollUntil, redactUrl, ServiceError, stateDir, tailOf } from './services-state.mjs';

const dir = join(stateDir, 'redis');
const confFile = join(dir, 'redis.conf');
const pidFile = join(dir, 'redis.pid');
const logFile = join(dir, 'redis.log');

export const redisFiles = { dir, confFile, pidFile, logFile };

export const localRedisUrl = (port) => `redis://127.0.0.1:${port}`;

/**
 * One inline command over a bare socket. The probes run before every `npm test`, and loading
 * ioredis costs more than the whole check should; the replies needed here are one line or
 * one bulk string.
 * @returns {Promise<{ reply?: string, error?: string, refused?: boolean }>}
 */
export function rawRedisCommand(port, command, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    const finish = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ error: `no answer within ${timeoutMs} ms` }));
    socket.on('error', (error) => finish({ error: error.message, refused: error.code === 'ECONNREFUSED' }));
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('end', () => finish({ error: 'connection closed without an answer' }));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const head = buffer.subarray(0, lineEnd).toString('utf8');
      if (head.startsWith('+')) return finish({ reply: head.slice(1) });
      if (head.startsWith('-')) return finish({ error: head.slice(1) });
      if (head.startsWith('$')) {
        const length = Number(head.slice(1));
        const body = buffer.subarray(lineEnd + 2);
        if (body.length >= length) return finish({ reply: body.subarray(0, length).toString('utf8') });
        return;
      }
      finish({ error: `not a Redis answer: ${JSON.stringify(head.slice(0, 40))}` });
    });
  });
}

/**
 * What listens on a local port: `redis` (answers PING), `free` (connection refused) or
 * `other` (something that is not a usable Redis, with the reason).
 */
export async function probeLocalRedis(port) {
  const answer = await rawRedisCommand(port, 'PING');
  if (answer.reply === 'PONG') return { state: 'redis' };
  if (answer.refused) return { state: 'free' };
  return { state: 'other', reason: answer.error ?? `answered ${answer.reply}` };
}

/** Checks that REDIS_URL answers PING (ioredis handles passwords, ACL users and TLS). */
export async function checkRedisUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new ServiceError('REDIS_URL is not a URL', { hint: 'use redis://[user:password@]host:port[/db]' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ServiceError(`REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The rejection only says "Connection is closed"; the socket's own error says why.
  let socketError;
  redis.on('error', (error) => {
    socketError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const reason = (socketError ?? error).message;
    throw new ServiceError(`REDIS_URL ${redactUrl(url)} is not reachable: ${reason}`, {
      hint: 'start that server, fix REDIS_URL, or unset it to let this script provide a local Redis',
      cause: error,
    });
  } finally {
    redis.disconnect();
  }
}

function readPort() {
  try {
    const match = /^port (\d+)$/m.exec(readFileSync(confFile, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function readPid() {
  try {
    return Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * The project's own redis-server when it runs: its pidfile names a live process and the
 * server on the configured port reports that same process id, so a stranger that took the
 * port after ours died is never mistaken for ours.
 * @returns {Promise<{ pid: number, port: number } | undefined>}
 */
export async function ownRedisStatus() {
  const pid = readPid();
  const port = readPort();
  if (pid === undefined || port === undefined || !isAlive(pid)) return undefined;
  const info = await rawRedisCommand(port, 'INFO server');
  const reported = /^process_id:(\d+)\r?$/m.exec(info.reply ?? '');
  return reported && Number(reported[1]) === pid ? { pid, port } : undefined;
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** REDIS_SERVER_BIN, else redis-server on PATH, else the usual install folders. */
export function findRedisServer() {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new ServiceError(`REDIS_SERVER_BIN=${fromEnv} is not an executable file`, {
        hint: 'point it at a redis-server binary or unset it',
      });
    }
    return fromEnv;
  }
  const folders = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/bin',
    '/usr/local/bin',
    '/opt/homebrew/bin',
  ];
  return folders.map((folder) => join(folder, 'redis-server')).find(isExecutable);
}

/**
 * Installs Debian's redis-server package. Only as root and only where apt-get exists; anyone
 * else gets the one command to run.
 * @param {(line: string) => void} say
 */
export function installRedisServer(say) {
  const root = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!root || !hasApt) {
    const command = hasApt
      ? 'sudo apt-get install -y redis-server'
      : process.platform === 'darwin'
        ? 'brew install redis'
        : "your system's package for redis-server";
    throw new ServiceError('no redis-server binary found (looked on PATH, /usr/bin, /usr/local/bin)', {
      hint: `install it with: ${command}   (or set REDIS_URL to a Redis you have, or REDIS_SERVER_BIN)`,
    });
  }
  say('redis: no redis-server binary found; installing Debian package redis-server with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'redis-server']]) {
    const run = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) {
      throw new ServiceError(
        `apt-get ${args.join(' ')} failed:\n${(run.stderr || run.stdout || '').trim()}`,
        {
          hint: 'install redis-server yourself, or set REDIS_URL to a Redis you have',
        },
      );
    }
  }
  const installed = findRedisServer();
  if (!installed)
    throw new ServiceError('apt-get installed redis-server but no redis-server binary was found');
  return installed;
}

/** Redis config strings: double-quoted, with the escapes its parser understands. */
const quoted = (value) => JSON.stringify(value);

/**
 * Starts the project's own redis-server, daemonized so it outlives this script.
 * @returns {Promise<{ pid: number, port: number }>}
 */
export async function startOwnRedis(binary, port) {
  const occupant = await probeLocalRedis(port);
  if (occupant.state !== 'free') {
    throw new ServiceError(`port ${port} (for the project's own Redis) is already taken by another program`, {
      hint: 'set CRM_SYNC_REDIS_PORT to a free port',
    });
  }
  mkdirSync(dir, { recursive: true });
  rmSync(pidFile, { force: true });
  writeFileSync(
    confFile,
    [
      '# Written by scripts/services.mjs: the project-local Redis for development and tests.',
      'bind 127.0.0.1',
      'protected-mode yes',
      `port ${port}`,
      'daemonize yes',
      `dir ${quoted(dir)}`,
      `pidfile ${quoted(pidFile)}`,
      `logfile ${quoted(logFile)}`,
      // Queues are rebuilt from the CRM's events; no snapshot or AOF is worth the disk writes.
      'save ""',
      'appendonly no',
      // BullMQ requires that Redis never evicts its keys.
      'maxmemory-policy noeviction',
      '',
    ].join('\n'),
  );
  const run = spawnSync(binary, [confFile], { encoding: 'utf8', timeout: 15_000 });
  if (run.status !== 0) {
    throw new ServiceError(
      `${binary} exited with ${run.status ?? run.signal}: ${(run.stderr || run.stdout || tailOf(logFile)).trim()}`,
    );
  }
  const started = await pollUntil(() => ownRedisStatus(), 10_000);
  if (!started) {
    throw new ServiceError(
      `redis-server did not answer on port ${port} within 10 s. Its log:\n${tailOf(logFile)}`,
    );
  }
  return started;
}

/**
 * Stops the project's own redis-server, and nothing else.
 * @returns {Promise<{ pid: number, port: number } | undefined>} what was stopped
 */
export async function stopOwnRedis() {
  const own = await ownRedisStatus();
  if (!own) {
    rmSync(pidFile, { force: true });
    return undefined;
  }
  // SIGTERM is Redis's own clean shutdown; with persistence off it exits at once.
  process.kill(own.pid, 'SIGTERM');
  if (!(await pollUntil(() => !isAlive(own.pid), 10_000))) {
    throw new ServiceError(`redis-server (pid ${own.pid}) did not stop within 10 s`);
  }
  return own;
}
