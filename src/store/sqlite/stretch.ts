// Reads one stretch of an incident's events, a page at a time, into a ChainStretch: shared by
// `verify` on the main thread and by its helper thread (verify-worker.ts).

import type Database from 'better-sqlite3';
import type { ChainStretch, RowRest } from '../chain.js';
import { spans } from './spans.js';

/**
 * Seqs per page: a page holds at most this many rows (fewer where other incidents' events lie
 * between), handed over as one text of a few hundred KiB, so memory stays flat.
 */
const PAGE = 128;

/** Separates the fields of a page's text (see PAGE_SQL): a character json_quote always escapes. */
const SEP = '\x1f';

/**
 * eventBody (chain.ts) in SQL: json_quote quotes text byte for byte as JSON.stringify does. The
 * incident id is the one asked for (@qid, quoted once). A column holding a BLOB makes json_quote fail
 * the page, which walkStretch then reads as plain columns, so such a row is judged as it always was.
 */
const BODY = `'{"actor":', json_quote(actor), ',"at":', json_quote(at), ',"data":', json_quote(data), ',"incident_id":', @qid,
  CASE WHEN origin IS NULL THEN '' ELSE ',"origin":' || json_quote(origin) END,
  CASE WHEN recorded_at IS NULL THEN '' ELSE ',"recorded_at":' || json_quote(recorded_at) END,
  ',"seq":', seq, CASE WHEN state_sha256 IS NULL THEN '' ELSE ',"state_sha256":' || json_quote(state_sha256) END,
  ',"type":', json_quote(type), '}'`;

/** hash and prev_hash as they are, but a BLOB fails the page as json_quote does: concat would pass its bytes off as text. */
const asText = (column: string) => `iif(typeof(${column}) = 'text', ${column}, json_quote(${column}))`;

/**
 * A page as one text: per row seq with json_valid's word on data (1 or 0) as its last digit, hash,
 * prev_hash, and the hash input (prev_hash followed by the eventBody text), separated by SEP. One string per page costs
 * far less than an array of values per row, which the driver builds element by element. json_valid
 * costs less than handing data over for JSON.parse, and accepts nothing JSON.parse rejects but text
 * holding a NUL (json_valid stops reading at one: ChainStretch.built looks for its escape in the
 * input); what it rejects (deep nesting too) goes to JSON.parse, so the verdict stays JSON.parse's.
 * The rows come in seq order (the walk of the table's key); walkStretch checks that they do.
 */
export const PAGE_SQL = `SELECT count(*), group_concat(concat(seq, json_valid(data) IS 1, '${SEP}', ${asText('hash')}, '${SEP}', ${asText('prev_hash')}, '${SEP}', prev_hash, ${BODY}), '${SEP}')
  FROM events WHERE incident_id = @id AND seq >= @lo AND seq <= @hi`;

const PLAIN_SQL = `SELECT seq, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at FROM events WHERE incident_id = @id AND seq >= @lo AND seq <= @hi ORDER BY seq`;

/** One page's rows, parsed out of its text before any of them is judged (reused from page to page). */
class PageRows {
  count = 0;
  readonly seq: number[] = [];
  readonly valid: boolean[] = [];
  readonly hash: string[] = [];
  readonly prev: string[] = [];
  readonly input: string[] = [];

  /**
   * Splits the text of `count` rows; false when it does not split into exactly four fields a row, in
   * ascending seq order. SQL puts 4 * count - 1 separators in; only the raw hash and prev_hash can
   * add more (json_quote escapes the character), so the last field reaching the end of the text
   * proves every field is what it claims to be. Such a page is read as plain columns instead.
   */
  parse(text: string, count: number, after: number): boolean {
    let p = 0;
    let last = after;
    for (let i = 0; i < count; i++) {
      let q = text.indexOf(SEP, p);
      if (q < p + 2) return false;
      // Digits only (a seq below zero, never walked, would fall back too): cheaper than Number(slice).
      let seq = 0;
      for (let k = p; k < q - 1; k++) {
        const d = text.charCodeAt(k) - 0x30;
        if (d < 0 || d > 9) return false;
        seq = seq * 10 + d;
      }
      if (!(seq > last)) return false;
      this.seq[i] = last = seq;
      this.valid[i] = text.charCodeAt(q - 1) === 0x31;
      p = q + 1;
      q = text.indexOf(SEP, p);
      if (q < 0) return false;
      this.hash[i] = text.slice(p, q);
      p = q + 1;
      q = text.indexOf(SEP, p);
      if (q < 0) return false;
      this.prev[i] = text.slice(p, q);
      p = q + 1;
      q = text.indexOf(SEP, p);
      if (q < 0) q = text.length;
      else if (i === count - 1) return false;
      this.input[i] = text.slice(p, q);
      p = q + 1;
    }
    this.count = count;
    return p === text.length + 1;
  }
}

/** Feeds the incident's events with seq in [from, to] to the stretch, in seq order. */
export function walkStretch(db: Database.Database, incidentId: string, from: number, to: number, stretch: ChainStretch): void {
  const page = db.prepare(PAGE_SQL).raw(true);
  const one = db.prepare(`SELECT at, type, actor, data FROM events WHERE seq = ?`).raw(true);
  const rest: RowRest = (seq) => {
    const [at, type, actor, data] = one.get(seq) as [string, string, string, string];
    return { at, type, actor, data };
  };
  let plain: Database.Statement | undefined;
  const qid = JSON.stringify(incidentId);
  const rows = new PageRows();
  let after = -Infinity;
  // Pages are ranges of seqs, so the walk needs an end: the last span may reach to MAX_SEQ.
  const top = (db.prepare(`SELECT max(seq) FROM events`).pluck().get() as number | null) ?? 0;
  // Span by span (spans.ts): each a walk of the table in seq order, a range of PAGE seqs at a time.
  for (const [first, end] of spans(db, incidentId, from, to)) {
    const last = Math.min(end, top);
    for (let lo = first; lo <= last; lo += PAGE) {
      const hi = Math.min(last, lo + PAGE - 1);
      let parsed = false;
      try {
        const [count, text] = page.get({ id: incidentId, lo, hi, qid }) as [number, string | null];
        if (count === 0) continue;
        parsed = text !== null && rows.parse(text, count, after);
      } catch {
        parsed = false;
      }
      if (parsed) {
        for (let i = 0; i < rows.count; i++) stretch.built(rows.seq[i], rows.hash[i], rows.prev[i], rows.input[i], rows.valid[i], rest);
        after = rows.seq[rows.count - 1];
      } else {
        plain ??= db.prepare(PLAIN_SQL).raw(true);
        const plainRows = plain.all({ id: incidentId, lo, hi }) as [number, string, string, string, string, string, string, string | null, string | null, string | null][];
        for (const r of plainRows) stretch.row(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
        if (plainRows.length) after = plainRows[plainRows.length - 1][0];
      }
    }
  }
}
