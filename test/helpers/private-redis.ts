import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/**
 * A redis-server of the test's own, on a free port: fault tests may flush it, stop it and start
 * it again without touching the machine's shared Redis. Without persistence (the default) a
 * restart loses everything, like one without AOF/RDB; `persistent` keeps an append-only file
 * synced on every write, so a crash and restart keep every acknowledged write, as a production
 * Redis with `appendfsync always` does.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: no shutdown save, like a crash); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty unless persistent); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** Spawns redis-server in the foreground; resolves when it logs that it accepts connections. */
async function spawnServer(port: number, dir: string, persistent: boolean): Promise<ChildProcess> {
  const durability = persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...durability, '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output.push(line);
      if (line.includes('Ready to accept connections')) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output.join('\n')}`,
        ),
      ),
    );
  });
  child.stderr?.resume();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis-server on port ${port} was not ready within 10 s`)),
      10_000,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return child;
}

export async function startPrivateRedis(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const persistent = options.persistent ?? false;
  const dir = await mkdtemp(join(tmpdir(), 'crm-sync-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // Another process may take the free port between the probe and the server's bind: try again.
  for (let tries = 0; !child; tries++) {
    port = await freePort();
    try {
      child = await spawnServer(port, dir, persistent);
    } catch (error) {
      if (tries >= 4) throw error;
    }
  }

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async start() {
      if (child) throw new Error(`private redis on port ${port} is already running`);
      child = await spawnServer(port, dir, persistent);
    },
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
