import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding `schemas/`: the package root, found by walking up from this module. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'schemas', 'config.schema.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('proxbalance: cannot find the schemas/ folder of the installation');
}

const cache = new Map<string, unknown>();

/** Reads and caches `schemas/<name>.schema.json`. */
export function loadSchema(name: string): Record<string, unknown> {
  let s = cache.get(name);
  if (!s) {
    s = JSON.parse(readFileSync(join(packageRoot(), 'schemas', `${name}.schema.json`), 'utf8'));
    cache.set(name, s);
  }
  return s as Record<string, unknown>;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
