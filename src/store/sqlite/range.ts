// Reads a fixed stretch of one incident's events (by seq) from a SQLite connection of its own, for
// a helper thread that works on one part of a long timeline while the main thread does another:
// rows up to a seq read once never change (events are append-only), so both see the same events.

import type Database from 'better-sqlite3';
import type { TimelineEvent } from '../../core/incident.js';
import { parseEventData } from '../chain.js';
import { bounds, spans, type Span } from './spans.js';

/** Rows per page: arrays from all() cost less per row than iterate(), and a page keeps memory flat. */
const PAGE = 1024;

/**
 * The events of `incidentId` with seq in [from, to], a page at a time, as streamPage builds them
 * without prev_hash and hash: a report names only the last event's hash (eventHash), and the 64
 * characters of every other one were a tenth of the time spent reading rows.
 */
export function* eventRange(db: Database.Database, incidentId: string, from: number, to: number): Generator<TimelineEvent[]> {
  const stmt = db
    .prepare(`SELECT seq, at, type, actor, data, origin, recorded_at FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ${PAGE}`)
    .raw(true);
  for (const [first, last] of spans(db, incidentId, from, to)) {
    for (let lo = first; ; ) {
      const rows = stmt.all(incidentId, lo, last) as (string | number | null)[][];
      const page: TimelineEvent[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        const event: TimelineEvent = { seq: r[0] as number, incidentId, at: r[1] as string, type: r[2] as string, actor: r[3] as string, data: parseEventData(r[4] as string), prevHash: '', hash: '' };
        if (r[5]) event.origin = r[5] as string;
        if (r[6]) event.recordedAt = r[6] as string;
        page[i] = event;
      }
      if (page.length) yield page;
      if (rows.length < PAGE) break;
      lo = (rows[rows.length - 1][0] as number) + 1;
    }
  }
}

/** The hash of the event `seq` of `incidentId`, read on its own (undefined if there is none). */
export function eventHash(db: Database.Database, incidentId: string, seq: number): string | undefined {
  return db.prepare(`SELECT hash FROM events WHERE seq = ? AND incident_id = ?`).pluck().get(seq, incidentId) as string | undefined;
}

/** Where a timeline is cut in two: the first seq of the second part and how many events come before it. */
export interface RangeCut {
  /** First seq of the second part. */
  at: number;
  /** The incident's newest seq when the cut was made: the second part ends there. */
  to: number;
  /** Events before `at` (a multiple of `align`). */
  before: number;
}

/**
 * A cut of the incident's events after about `share` of them, with a multiple of `align` events
 * before it (so batches of `align` fall the same on either side), or undefined below `min` events.
 * Counts over the incident's spans (spans.ts), then one short step back from the guess.
 */
export function cutEvents(db: Database.Database, incidentId: string, share: number, align: number, min: number): RangeCut | undefined {
  const ends = bounds(db, incidentId);
  // The seq span bounds the event count (other incidents' events interleave): near enough to choose.
  if (!ends || ends.last - ends.first + 1 < min) return undefined;
  const { first: lo, last: hi } = ends;
  const guess = lo + Math.floor((hi - lo + 1) * share);
  const count = db.prepare(`SELECT count(*) FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ?`).pluck();
  const below: Span[] = [...spans(db, incidentId, lo, guess - 1)];
  let n = 0;
  for (const [from, to] of below) n += count.get(incidentId, from, to) as number;
  const before = n - (n % align);
  if (before < align) return undefined;
  // The seq of event number `before` (counting from 0): the first at or after the guess, or a step of
  // under `align` rows back from it.
  let at: number | undefined;
  if (n === before) {
    const next = db.prepare(`SELECT seq FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT 1`).pluck();
    for (const [from, to] of spans(db, incidentId, guess, hi)) if ((at = next.get(incidentId, from, to) as number | undefined) !== undefined) break;
  } else {
    const back = db.prepare(`SELECT seq FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq DESC LIMIT 1 OFFSET ?`).pluck();
    let skip = n - before - 1;
    for (let i = below.length - 1; i >= 0 && at === undefined; i--) {
      const [from, to] = below[i];
      at = back.get(incidentId, from, to, skip) as number | undefined;
      if (at === undefined) skip -= count.get(incidentId, from, to) as number;
    }
  }
  if (at === undefined || at >= hi) return undefined;
  return { at, to: hi, before };
}
