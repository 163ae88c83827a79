// Loads better-sqlite3 and opens a database file with it, handing the driver its native addon by
// path: left to itself it finds the addon through the `bindings` package, which loads two more
// modules and probes a dozen candidate paths on every start of `ir`.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/** require for this module's own location: a build (dist/bin) or the sources, checkout or installed package. */
const requireHere = createRequire(import.meta.url);

let driver: { Database: typeof BetterSqlite3; addon: string | undefined } | undefined;

function load(): NonNullable<typeof driver> {
  if (!driver) {
    // With require rather than import: Node's ESM loader would first scan the CommonJS source for its exports.
    const Database = requireHere('better-sqlite3') as typeof BetterSqlite3;
    // Where `npm install` (prebuilt or compiled) puts the addon; anywhere else, `bindings` looks.
    const addon = join(dirname(requireHere.resolve('better-sqlite3')), '..', 'build', 'Release', 'better_sqlite3.node');
    driver = { Database, addon: existsSync(addon) ? addon : undefined };
  }
  return driver;
}

/** Opens (creating when missing) the SQLite file at `path`, waiting up to `timeoutMs` for another writer's lock. */
export function openSqlite(path: string, timeoutMs: number): BetterSqlite3.Database {
  const { Database, addon } = load();
  return new Database(path, { timeout: timeoutMs, ...(addon ? { nativeBinding: addon } : {}) });
}
