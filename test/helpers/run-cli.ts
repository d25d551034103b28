import { vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs `crm-sync …` in this process with `env` set for the call only, capturing what it
 * printed and its exit code (reset afterwards, so one failing command does not fail the run).
 */
export async function runCliCaptured(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await runCli(['node', 'crm-sync', ...args]);
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { stdout, stderr, exitCode };
}
