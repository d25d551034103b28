import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** The package's own folder (works from src/ under tsx and from dist/). */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** Git-ignored folder for local state: embedded servers' data, the services file, dev keys. */
export const localStateDir = process.env.CRM_SYNC_HOME ?? join(projectRoot, '.crm-sync');
export const servicesFile = join(localStateDir, 'services.json');
