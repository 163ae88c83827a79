// Reads one stretch of an incident's events, a page at a time, into a ChainStretch: shared by
// `verify` on the main thread and by its helper thread (verify-worker.ts).

import type Database from 'better-sqlite3';
import { BUILT_JSON, BUILT_PREV, type ChainStretch, type RowRest } from '../chain.js';
import { spans } from './spans.js';

/** Rows per page: arrays from all() cost less per row than iterate(), and a page keeps memory flat. */
const PAGE = 1024;

/** An event row as verify reads it: seq, type, hash, prev_hash followed by its eventBody text, BUILT_* flags. */
type BuiltRow = [number, string, string, string, number];

/** The same row as plain columns, as ChainStretch.row takes it. */
type PlainRow = [number, string, string, string, string, string, string, string | null, string | null, string | null];

/**
 * eventBody (chain.ts) in SQL: json_quote quotes text byte for byte as JSON.stringify does. Building
 * the text here, with prev_hash before it, costs less than handing over a string per column (each
 * column of a row is a separate call into V8) and joining them in JS. The incident id is the one asked
 * for (@qid, quoted once). A column holding a BLOB makes json_quote fail the page, which walkStretch
 * then reads as plain columns, so such a row is judged as it always was.
 */
const INPUT = `prev_hash || '{"actor":' || json_quote(actor) || ',"at":' || json_quote(at) || ',"data":' || json_quote(data) || ',"incident_id":' || @qid
  || CASE WHEN origin IS NULL THEN '' ELSE ',"origin":' || json_quote(origin) END
  || CASE WHEN recorded_at IS NULL THEN '' ELSE ',"recorded_at":' || json_quote(recorded_at) END
  || ',"seq":' || seq || CASE WHEN state_sha256 IS NULL THEN '' ELSE ',"state_sha256":' || json_quote(state_sha256) END
  || ',"type":' || json_quote(type) || '}'`;

/**
 * BUILT_JSON: json_valid costs less than handing data over for JSON.parse, and accepts nothing
 * JSON.parse rejects but text holding a NUL (json_valid stops reading at one: ChainStretch.built
 * looks for its escape in the input, cheaper than instr here); what it rejects (deep nesting too)
 * goes to JSON.parse, so the verdict stays JSON.parse's. BUILT_PREV: 64 characters in 64 bytes are
 * 64 ASCII ones, the first 64 of the input.
 */
const FLAGS = `ifnull(typeof(data) = 'text' AND json_valid(data), 0) * ${BUILT_JSON}
  + ifnull(typeof(prev_hash) = 'text' AND length(prev_hash) = 64 AND octet_length(prev_hash) = 64, 0) * ${BUILT_PREV}`;

const RANGE = `FROM events WHERE incident_id = @id AND seq >= @lo AND seq <= @hi ORDER BY seq LIMIT ${PAGE}`;

export const STRETCH_SQL = `SELECT seq, type, hash, ${INPUT}, ${FLAGS} ${RANGE}`;

const PLAIN_SQL = `SELECT seq, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at ${RANGE}`;

/** Feeds the incident's events with seq in [from, to] to the stretch, in seq order. */
export function walkStretch(db: Database.Database, incidentId: string, from: number, to: number, stretch: ChainStretch): void {
  const page = db.prepare(STRETCH_SQL).raw(true);
  const one = db.prepare(`SELECT at, actor, data, prev_hash FROM events WHERE seq = ?`).raw(true);
  const rest: RowRest = (seq) => {
    const [at, actor, data, prevHash] = one.get(seq) as [string, string, string, string];
    return { at, actor, data, prevHash };
  };
  let plain: Database.Statement | undefined;
  const qid = JSON.stringify(incidentId);
  // Span by span (spans.ts): each a walk of the table in seq order.
  for (const [first, last] of spans(db, incidentId, from, to)) {
    for (let lo = first; ; ) {
      let rows: BuiltRow[] | PlainRow[] | undefined;
      try {
        rows = page.all({ id: incidentId, lo, hi: last, qid }) as BuiltRow[];
      } catch {
        rows = undefined;
      }
      if (rows) for (const r of rows) stretch.built(r[0], r[1], r[2], r[3], r[4], rest);
      else {
        plain ??= db.prepare(PLAIN_SQL).raw(true);
        rows = plain.all({ id: incidentId, lo, hi: last }) as PlainRow[];
        for (const r of rows) stretch.row(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
      }
      if (rows.length < PAGE) break;
      lo = rows[rows.length - 1][0] + 1;
    }
  }
}
