// Loads better-sqlite3 and opens a database file with it. Two costs are avoided on every start of
// `ir`: the driver finding its native addon through the `bindings` package (two more modules and a
// dozen paths probed), and Node loading the driver's own dozen small CommonJS files one by one —
// the build (scripts/bundle.mjs) bundles that JavaScript, and it is used while it is the very
// version installed next to the addon; otherwise the installed driver is loaded as it is.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import BundledDatabase from 'better-sqlite3/lib/index.js';

/** The version of the driver bundled into this build (set by scripts/bundle.mjs); undefined running from the sources. */
declare const IR_BUNDLED_BETTER_SQLITE3: string | undefined;

/** require for this module's own location: a build (dist/bin) or the sources, checkout or installed package. */
const requireHere = createRequire(import.meta.url);

let driver: { Database: typeof BetterSqlite3; addon: string | undefined } | undefined;

function load(): NonNullable<typeof driver> {
  if (!driver) {
    const packageJson = requireHere.resolve('better-sqlite3/package.json');
    // Where `npm install` (prebuilt or compiled) puts the addon; anywhere else, `bindings` looks.
    const addon = join(dirname(packageJson), 'build', 'Release', 'better_sqlite3.node');
    const found = existsSync(addon);
    const bundled = typeof IR_BUNDLED_BETTER_SQLITE3 === 'string' ? IR_BUNDLED_BETTER_SQLITE3 : undefined;
    let Database = BundledDatabase as typeof BetterSqlite3;
    if (bundled !== undefined) {
      const installed = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string }).version;
      // Another version's JavaScript may not match this addon, and the bundled `bindings` would
      // search from ir's directory, not the driver's: the installed driver then, as it is.
      if (installed !== bundled || !found) Database = requireHere('better-sqlite3') as typeof BetterSqlite3;
    }
    driver = { Database, addon: found ? addon : undefined };
  }
  return driver;
}

/**
 * Opens the SQLite file at `path` (created when missing, unless `fileMustExist`), waiting up to
 * `timeoutMs` for another writer's lock.
 */
export function openSqlite(path: string, timeoutMs: number, opts: { readonly?: boolean; fileMustExist?: boolean } = {}): BetterSqlite3.Database {
  const { Database, addon } = load();
  return new Database(path, { ...opts, timeout: timeoutMs, ...(addon ? { nativeBinding: addon } : {}) });
}
