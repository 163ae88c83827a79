// Who writes from where: this machine's name and an installation id made once per home, so a team
// can tell which laptop each event came from even when two share a hostname.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The home's installation id, created on first use (8 hex digits). */
export function installationId(home: string): string {
  const file = join(home, 'installation-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{8,32}$/.test(id)) return id;
  } catch {
    // not made yet
  }
  // node:crypto only here, once per home: loading it costs every command ~5 ms.
  const id = process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    // wx: when two first commands race, the one that loses reads the winner's id.
    writeFileSync(file, `${id}\n`, { mode: 0o600, flag: 'wx' });
    return id;
  } catch {
    return readFileSync(file, 'utf8').trim();
  }
}

/** `host/installation`, as written into each event's origin. */
export function originOf(home: string): string {
  return `${hostname()}/${installationId(home)}`;
}
