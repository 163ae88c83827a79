// An incident's events read a page at a time on a helper thread (page-worker.ts) while this thread
// works on the pages before. For a long timeline, building rows is about half of what a report costs
// on one thread: better-sqlite3 makes each value of each row on its own, where V8's JSON parser builds
// a page of them in one pass. So the helper asks SQLite for each page as JSON text, and this thread
// parses it and makes the events exactly as streamPage makes them from rows.

import type { TimelineEvent } from '../../core/incident.js';

/** What the page helper thread is asked to read. */
export interface PageJob {
  path: string;
  incidentId: string;
  /**
   * [HANDOVER_STATE]: STARTING, then READY once the helper can read (it then waits), then GO once this
   * thread, which reads its own pages meanwhile, has stored in [HANDOVER_AFTER] the seq the helper
   * reads on from. [HANDOVER_TAKEN]: the helper's pages this thread has taken, which the helper waits
   * on when it is `ahead` pages ahead (a counter in shared memory: a message per page cost this thread
   * more than the page's parse, on a busy machine).
   */
  handover: BigInt64Array;
  /** Events per page. */
  batch: number;
  /** Whether each event carries its prev_hash, and its own hash. */
  prev: boolean;
  own: boolean;
  /** Pages the helper may read ahead of what this thread has taken. */
  ahead: number;
}

export const HANDOVER_STATE = 0;
export const HANDOVER_AFTER = 1;
export const HANDOVER_TAKEN = 2;
export const STARTING = 0n;
export const READY = 1n;
export const GO = 2n;

/**
 * One statement's answer: the rows' columns (a JSON array of arrays) and their data (JSON values
 * joined by commas), for `count` events up to seq `last`.
 */
export interface PagePart {
  rows: string;
  data: string;
}

/** What the page helper posts: a page (the parts of one or more spans), the end, or why it failed. */
export type PageMessage = { parts: PagePart[]; count: number; last: number } | { done: true } | { error: string };

/**
 * The statement a part is read with. Parameters: the incident, the lowest and highest seq, the most
 * events. One row: each event as a JSON array (see below); the data of each, comma-joined; the
 * count; the last seq. Data that is JSON as RFC 8259 has it (ok = 1) is joined as it is stored, so
 * it is parsed with the page; anything else (ok = 0) comes as a JSON string, read by parseEventData
 * as it reads any row. V8 accepts exactly RFC 8259, so both read the same value from the same text;
 * a text SQLite refuses though V8 would take it (nested past SQLite's depth limit) comes as a string
 * and is parsed by V8 after all.
 *
 * An event's array is `[seq, at, type, actor, (prev_hash,) (hash,)]`, and only when it has an origin
 * or a recorded_at, or data that is not JSON, `origin, recorded_at, ok` follow: most events have
 * neither, and three values fewer on each took about a third off the parse of these arrays.
 *
 * `clean`: the stretch is known to hold no data that is not JSON (ODD_DATA_SQL found none), so no
 * event's data is checked: that check was nearly half of what this statement cost.
 */
export function pageSql(prev: boolean, own: boolean, clean = false): string {
  const head = `seq, at, type, actor${prev ? ', prev_hash' : ''}${own ? ', hash' : ''}`;
  // The validity is taken once per row: the subquery's LIMIT keeps SQLite from flattening it into the aggregate.
  return `SELECT json_group_array(CASE WHEN ok AND origin IS NULL AND recorded_at IS NULL THEN json_array(${head}) ELSE json_array(${head}, origin, recorded_at, ok) END),
      group_concat(CASE WHEN ok THEN data ELSE json_quote(data) END, ','), count(*), max(seq)
    FROM (SELECT ${head}, origin, recorded_at, ${clean ? '1' : 'json_valid(data, 1)'} AS ok, data FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?)`;
}

/**
 * A row if the incident's events with seq in [lowest, highest] include one whose data is not JSON as
 * RFC 8259 has it, found through schema 12's partial index, which SQLite keeps with the rows whoever
 * writes them: a look at the few such events, not at every one. Preparing it fails on a store without
 * that index; every page is then read checking each event. The condition is the index's own, word for
 * word, or SQLite would not use it. An older SQLite that wrote a row may have judged its data by its
 * own parser: any text it took for JSON is one JSON value, which V8 reads as pageEvents needs (at
 * worst a page V8 refuses, which the main thread then reads itself).
 */
export const ODD_DATA_SQL = 'SELECT 1 FROM events INDEXED BY events_odd_data WHERE incident_id = ? AND seq >= ? AND seq <= ? AND NOT json_valid(data) LIMIT 1';

/**
 * An event as a streamed read makes it from its columns (streamPage from rows, pageEvents from a
 * page's JSON): origin and recorded_at only when set, a hash not read as ''.
 */
export function streamEvent(
  incidentId: string,
  seq: number,
  at: string,
  type: string,
  actor: string,
  data: Record<string, unknown>,
  prevHash: string,
  hash: string,
  origin: string | null,
  recordedAt: string | null,
): TimelineEvent {
  const event: TimelineEvent = { seq, incidentId, at, type, actor, data, prevHash, hash };
  if (origin) event.origin = origin;
  if (recordedAt) event.recordedAt = recordedAt;
  return event;
}

/** The events of one page, as streamPage makes them from rows. */
export function pageEvents(parts: PagePart[], incidentId: string, prev: boolean, own: boolean, parseData: (text: string) => Record<string, unknown>): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  // The short form's length (pageSql); the long one has origin, recorded_at and ok after it.
  const short = 4 + Number(prev) + Number(own);
  const hashAt = prev ? 5 : 4;
  for (const part of parts) {
    const rows = JSON.parse(part.rows) as unknown[][];
    const data = JSON.parse(`[${part.data}]`) as unknown[];
    if (data.length !== rows.length) throw new Error(`a page of ${rows.length} events came with ${data.length} data values`);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const long = r.length > short;
      const value = !long || r[short + 2] === 1 ? (data[i] as Record<string, unknown>) : parseData(data[i] as string);
      const event = streamEvent(
        incidentId,
        r[0] as number,
        r[1] as string,
        r[2] as string,
        r[3] as string,
        value,
        prev ? (r[4] as string) : '',
        own ? (r[hashAt] as string) : '',
        long ? (r[short] as string | null) : null,
        long ? (r[short + 1] as string | null) : null,
      );
      out.push(event);
    }
  }
  return out;
}
