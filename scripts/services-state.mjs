// Shared pieces of the services script: where local state lives, the services file that
// src/config/env.ts reads, and the small process helpers both servers need.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Same rule as `localStateDir` in src/config/paths.ts: the two must agree. */
export const stateDir = process.env.CRM_SYNC_HOME ?? join(projectRoot, '.crm-sync');
export const servicesFile = join(stateDir, 'services.json');

/** A failure the user can act on: `message` says what is wrong, `hint` what to do. */
export class ServiceError extends Error {
  /** @param {string} message @param {{ hint?: string, cause?: unknown }} [options] */
  constructor(message, options = {}) {
    super(message, { cause: options.cause });
    this.name = 'ServiceError';
    this.hint = options.hint;
  }
}

/** @returns {{ redisUrl?: string, databaseUrl?: string }} */
export function readServicesFile() {
  try {
    const parsed = JSON.parse(readFileSync(servicesFile, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * Written through a temporary file and a rename, so a reader never sees half a file. Skipped
 * when nothing changed: it runs before every `npm test`.
 * @param {{ redisUrl?: string, databaseUrl?: string }} services
 */
export function writeServicesFile(services) {
  const body = `${JSON.stringify(services, null, 2)}\n`;
  if (existsSync(servicesFile) && readFileSync(servicesFile, 'utf8') === body) return;
  mkdirSync(stateDir, { recursive: true });
  if (Object.keys(services).length === 0) {
    rmSync(servicesFile, { force: true });
    return;
  }
  const tmp = `${servicesFile}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  renameSync(tmp, servicesFile);
}

/** The URL without its password, for messages: secrets never reach the terminal or logs. */
export function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** A port from the environment, or the fallback; a bad value is an error naming the variable. */
export function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ServiceError(`${name}=${raw} is not a port number (1-65535)`);
  }
  return port;
}

export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (a Postgres run as `postgres`).
    return error.code === 'EPERM';
  }
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then returns undefined). */
export async function pollUntil(check, timeoutMs, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The last lines of a log file, to show why a server would not start. */
export function tailOf(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
