// ir's version and install location, found without loading anything else. The code runs from
// dist/ (tsc output) or dist/bin/ (the bundle), so the package root is looked up, not assumed.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory holding ir's package.json (and its shipped runbooks/ and templates/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  root = dir;
  return root;
}

/** ir's version, written into the build by scripts/bundle.mjs; undefined running from dist/ or the sources. */
declare const IR_VERSION: string | undefined;

export function version(): string {
  if (typeof IR_VERSION === 'string') return IR_VERSION;
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
