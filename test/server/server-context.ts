import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type AppContext, createAppContext } from '../../src/app/context.js';
import { type Env, loadEnv } from '../../src/config/env.js';
import { REDACT_PATHS } from '../../src/logging/logger.js';

/** An app context on the test's own database and queue prefix whose log lines are kept for assertions. */
export function serverContext(overrides: Partial<Env>): { ctx: AppContext; logs: string[] } {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  const ctx = createAppContext({ env: { ...loadEnv(), ...overrides }, logger });
  return { ctx, logs };
}
