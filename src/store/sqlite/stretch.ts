// Reads one stretch of an incident's events, a page at a time, into a ChainStretch: shared by
// `verify` on the main thread and by its helper thread (verify-worker.ts).

import type Database from 'better-sqlite3';
import type { ChainStretch } from '../chain.js';

/** Rows per page: arrays from all() cost less per row than iterate(), and a page keeps memory flat. */
const PAGE = 1024;

/** An event row as verify reads it, in its column order. */
type VerifyRow = [number, string, string, string, string, string, string, string | null, string | null, string | null];

export const STRETCH_SQL = `SELECT seq, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at FROM events
  WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ${PAGE}`;

/** Feeds the incident's events with seq in [from, to] to the stretch, in seq order. */
export function walkStretch(db: Database.Database, incidentId: string, from: number, to: number, stretch: ChainStretch): void {
  const page = db.prepare(STRETCH_SQL).raw(true);
  for (let lo = from; ; ) {
    const rows = page.all(incidentId, lo, to) as VerifyRow[];
    for (const r of rows) stretch.row(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
    if (rows.length < PAGE) return;
    lo = rows[rows.length - 1][0] + 1;
  }
}
