// Where one incident's events lie in the store's single sequence of seqs. Events are numbered
// store-wide and event_runs marks the first event of each run of consecutive seqs that belong to one
// incident (migration 10), so a per-incident read is a walk of the events table in seq order over a
// few stretches (a long incident is usually one). Every read keeps its `incident_id = ?` condition:
// the spans only bound what is walked, so a run another connection starts meanwhile cannot put
// another incident's event into an answer.

import type Database from 'better-sqlite3';

/** Beyond any seq: the end of a run nothing follows yet. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Seqs from..to, both included. */
export type Span = [from: number, to: number];

/**
 * Others' events between two runs walked over and skipped rather than read as one more span: a short
 * walk costs less than another statement.
 */
const GAP = 256;

/** Runs fetched at a time: an incident written between others' events may have thousands. */
const BATCH = 256;

/**
 * The newest seq of the incident named by the SQL expression `id` (NULL if it has none), in one
 * statement: walked back from where the run after its last run begins, so the first row looked at is
 * its newest event (a run emptied by hand only makes the walk longer).
 */
export function lastSeqSql(id: string): string {
  const lastRun = `(SELECT max(h.seq) FROM event_runs h WHERE h.incident_id = ${id})`;
  return `(SELECT x.seq FROM events x WHERE ${lastRun} IS NOT NULL AND x.incident_id = ${id}
      AND x.seq < coalesce((SELECT min(n.seq) FROM event_runs n WHERE n.seq > ${lastRun}), ${MAX_SEQ})
    ORDER BY x.seq DESC LIMIT 1)`;
}

/**
 * LEFT JOINs giving each row of incidents `i` its newest event as `e` (through its last run `h`): the
 * same walk back as lastSeqSql, as joins, which SQLite runs in fewer seeks for every incident of a list.
 */
export const LAST_EVENT_JOIN = `LEFT JOIN event_runs h ON h.seq = (SELECT max(seq) FROM event_runs WHERE incident_id = i.id)
  LEFT JOIN events e ON e.seq = (SELECT x.seq FROM events x WHERE h.seq IS NOT NULL AND x.incident_id = i.id
    AND x.seq < coalesce((SELECT min(n.seq) FROM event_runs n WHERE n.seq > h.seq), ${MAX_SEQ}) ORDER BY x.seq DESC LIMIT 1)`;

const statements = new WeakMap<Database.Database, { holding: Database.Statement; after: Database.Statement; first: Database.Statement; last: Database.Statement }>();

function prepared(db: Database.Database) {
  let s = statements.get(db);
  if (!s) {
    s = {
      // The run holding `from` (the incident's last to begin at or before it), and the ones after it,
      // each with the seq where the next run of any incident begins: two walks of the index in its
      // order (one statement of both, in order, needed a sort of its own that cost more than the reads).
      holding: db
        .prepare(`SELECT h.seq, (SELECT n.seq FROM event_runs n WHERE n.seq > h.seq ORDER BY n.seq LIMIT 1) FROM event_runs h WHERE h.incident_id = @id AND h.seq <= @from ORDER BY h.seq DESC LIMIT 1`)
        .raw(true),
      after: db
        .prepare(`SELECT h.seq, (SELECT n.seq FROM event_runs n WHERE n.seq > h.seq ORDER BY n.seq LIMIT 1) FROM event_runs h WHERE h.incident_id = @id AND h.seq > @from AND h.seq <= @to ORDER BY h.seq LIMIT @n`)
        .raw(true),
      first: db.prepare(`SELECT seq FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT 1`).pluck(),
      last: db.prepare(`SELECT ${lastSeqSql('@id')}`).pluck(),
    };
    statements.set(db, s);
  }
  return s;
}

/**
 * The spans of seqs in [from, to] that hold the incident's events, in order, runs close together
 * joined into one. Fetched as they are walked, so a reader that stops early reads few runs.
 */
export function* spans(db: Database.Database, incidentId: string, from = 0, to = MAX_SEQ): Generator<Span> {
  const s = prepared(db);
  let pending: Span | undefined;
  const holding = s.holding.get({ id: incidentId, from }) as [number, number | null] | undefined;
  for (let after = from, first = true; ; first = false) {
    // The run holding `from`, then batches of up to BATCH runs beginning after it.
    const later = s.after.all({ id: incidentId, from: after, to, n: BATCH }) as [number, number | null][];
    const rows = first && holding ? [holding, ...later] : later;
    for (const [head, next] of rows) {
      const lo = Math.max(head, from);
      const hi = Math.min(next === null ? MAX_SEQ : next - 1, to);
      if (lo > hi) continue;
      if (pending && lo - pending[1] - 1 <= GAP) pending[1] = Math.max(pending[1], hi);
      else {
        if (pending) yield pending;
        pending = [lo, hi];
      }
    }
    if (later.length < BATCH) break;
    after = later[later.length - 1][0];
  }
  if (pending) yield pending;
}

/** The incident's first and newest seq, or undefined when it has no events. */
export function bounds(db: Database.Database, incidentId: string): { first: number; last: number } | undefined {
  const s = prepared(db);
  const last = s.last.get({ id: incidentId }) as number | null;
  if (last === null) return undefined;
  for (const [lo, hi] of spans(db, incidentId, 0, last)) {
    const first = s.first.get(incidentId, lo, hi) as number | undefined;
    if (first !== undefined) return { first, last };
  }
  return undefined;
}
