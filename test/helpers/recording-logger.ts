import { pino } from 'pino';
import type { Logger } from '../../src/logging/logger.js';

/** A logger that keeps its lines, parsed, for a test to read (`warnings()`: level warn and up). */
export function recordingLogger(): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  warnings: () => string[];
} {
  const written: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void written.push(line) });
  const lines = () => written.map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    logger,
    lines,
    warnings: () =>
      lines()
        .filter((l) => Number(l.level) >= 40)
        .map((l) => String(l.msg)),
  };
}
