#!/usr/bin/env node
// Runs the compiled CLI when the package was built, else the TypeScript sources through tsx,
// so `npx crm-sync` works in a fresh clone without a build step.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'main.js');
let entry = compiled;
if (!existsSync(compiled)) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(root, 'src', 'cli', 'main.ts');
}
const { runCli } = await import(pathToFileURL(entry).href);
await runCli(process.argv);
