import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log line. Credentials travel in integration
 * records, provider requests and errors: none of them may reach a log.
 */
export const REDACT_PATHS = [
  'credentials',
  '*.credentials',
  'accessToken',
  '*.accessToken',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.*.headers.authorization',
  '*.*.headers.Authorization',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.CRM_SYNC_LOG_LEVEL ?? 'info',
    base: { service: 'crm-sync' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...options,
  });
}

/** For tests and library use: a logger that writes nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
