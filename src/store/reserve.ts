// Room kept beside ir.db so that the end of a runbook run or an evidence collection can still be
// recorded when its output fills the disk the database lives on. Each process that writes long
// output holds its own reserve (`.ir-reserve-<pid>`), gives it back at that moment, and removes it
// when done; the reserves of processes that died (kill -9) are removed by the next one.

import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../exec/process.js';

const PREFIX = '.ir-reserve-';

export interface SpaceReserve {
  /** Gives the space back; true if there was a reserve to give. Safe to call more than once. */
  release(): boolean;
}

/** SQLite reports a full disk as SQLITE_FULL, Node as ENOSPC (or EDQUOT over a quota). */
export function diskFullCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' ? code : undefined;
}

/**
 * Writes `bytes` of random data (so a compressing filesystem cannot shrink it) in `dir`. No reserve
 * when the disk is already too full for one: the work goes on as it would have without it.
 */
export function takeReserve(dir: string, bytes: number): SpaceReserve {
  try {
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(PREFIX)) continue;
      const pid = Number(name.slice(PREFIX.length));
      if (!Number.isInteger(pid) || pid === process.pid || !pidAlive(pid)) rmSync(join(dir, name), { force: true });
    }
  } catch {
    /* an unreadable directory: nothing to clean */
  }
  const path = join(dir, `${PREFIX}${process.pid}`);
  let held = false;
  try {
    writeFileSync(path, randomBytes(bytes), { mode: 0o600 });
    held = true;
  } catch {
    rmSync(path, { force: true });
  }
  return {
    release: () => {
      if (!held) return false;
      held = false;
      rmSync(path, { force: true });
      return true;
    },
  };
}
