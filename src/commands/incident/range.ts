// A timeline's rows as text, shared by the streamed path (render.ts) and the two threads that render
// a long SQLite timeline in parallel (parallel.ts, render-worker.ts): one definition of a row, so
// every path prints the same bytes.

import type Database from 'better-sqlite3';
import type { TimelineEvent } from '../../core/incident.js';
import { describeEvent } from '../../core/describe.js';
import { utc, visibleWidth } from '../../io/format.js';
import { parseEventData } from '../../store/chain.js';
import { spans } from '../../store/sqlite/spans.js';

export function eventJson(e: TimelineEvent) {
  // Built key by key rather than with spreads: a timeline of a million events builds a million.
  const out: { seq: number; at: string; type: string; actor: string; data: Record<string, unknown>; summary: string; hash: string; origin?: string; recorded_at?: string; waiting?: true } = {
    seq: e.seq,
    at: e.at,
    type: e.type,
    actor: e.actor,
    data: e.data,
    summary: describeEvent(e),
    hash: e.hash,
  };
  if (e.origin) out.origin = e.origin;
  if (e.recordedAt) out.recorded_at = e.recordedAt;
  if (e.waiting) out.waiting = true;
  return out;
}

export const TIMELINE_HEADER = ['TIME (UTC)', 'ACTOR', 'EVENT'];

/** The widths of a timeline's first two columns. */
export interface ColumnWidths {
  time: number;
  actor: number;
}

/** The header line, padded to the widths (what `columns` prints for it). */
export function headerLine(widths: ColumnWidths): string {
  const [time, actor, event] = TIMELINE_HEADER;
  return `${time}${' '.repeat(widths.time - visibleWidth(time))}  ${actor}${' '.repeat(widths.actor - visibleWidth(actor))}  ${event}\n`;
}

/**
 * One event's line (with its newline) as `columns(TIMELINE_HEADER, rows)` prints it: notes stand out,
 * the machinery is dimmed. Without the row arrays, and an actor's padding worked out once (a
 * timeline has a handful of actors and a million rows).
 */
export function rowFormatter(widths: ColumnWidths, dim: (text: string) => string): (e: TimelineEvent) => string {
  const pads = new Map<string, string>();
  const timeWidth = widths.time;
  const actorWidth = widths.actor;
  return (e) => {
    let pad = pads.get(e.actor);
    if (pad === undefined) {
      // Never negative: widths and rows may come from two looks at the store, not one snapshot.
      pad = ' '.repeat(Math.max(0, actorWidth - visibleWidth(e.actor)));
      if (pads.size < 10_000) pads.set(e.actor, pad);
    }
    const time = utc(e.at);
    const text = e.type === 'note.added' ? describeEvent(e) : dim(describeEvent(e));
    const cell = time.length === timeWidth ? time : time + ' '.repeat(Math.max(0, timeWidth - visibleWidth(time)));
    // Only a row ending in a space (or an empty text's padding), or beyond ASCII, can have anything to
    // trim; the row ends as its text does, so the usual row is built once, with its newline.
    const last = text.length ? text.charCodeAt(text.length - 1) : 32;
    if (last > 32 && last <= 127) return `${cell}  ${e.actor}${pad}  ${text}\n`;
    return `${`${cell}  ${e.actor}${pad}  ${text}`.trimEnd()}\n`;
  };
}

/** An `at` exactly as toISOString writes it, as a GLOB pattern: such a time prints 20 wide. */
const ISO_GLOB = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z';

/** What a stretch of the timeline needs of the column widths: its widest cells (count: 0 when it has no events). */
export interface PartOutline {
  /** Distinct actors and forms of time: not the events' count, but 0 only when there are none. */
  count: number;
  time: number;
  actor: number;
}

/** Merges b's widest cells into a. */
export function mergeOutline(a: PartOutline, b: PartOutline): void {
  a.count += b.count;
  a.time = Math.max(a.time, b.time);
  a.actor = Math.max(a.actor, b.actor);
}

/**
 * The widest cells of stretches of a timeline, from SQLite's own scan (no event is built): one thread
 * outlines stretch after stretch into one part, on statements prepared once.
 */
export class Outliner {
  readonly part: PartOutline = { count: 0, time: 0, actor: 0 };
  // DISTINCT rather than GROUP BY: no count, and no sort of every row by actor.
  private readonly actors: Database.Statement;
  private times?: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly incidentId: string,
  ) {
    this.actors = db.prepare(`SELECT DISTINCT actor, at GLOB '${ISO_GLOB}' FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ?`).raw(true);
  }

  /** Adds the events with seq in [from, to]. */
  add(from: number, to: number): void {
    const out = this.part;
    let odd = false;
    const within = [...spans(this.db, this.incidentId, from, to)];
    for (const [lo, hi] of within) {
      for (const [actor, iso] of this.actors.iterate(this.incidentId, lo, hi) as IterableIterator<[string, number]>) {
        out.count++;
        out.actor = Math.max(out.actor, visibleWidth(actor));
        if (!iso) odd = true;
        else out.time = Math.max(out.time, 20);
      }
    }
    if (odd) {
      // Times in another form are few (imported, hand-written): each is measured as it prints.
      this.times ??= this.db.prepare(`SELECT at FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? AND NOT (at GLOB '${ISO_GLOB}')`).pluck();
      for (const [lo, hi] of within) for (const at of this.times.iterate(this.incidentId, lo, hi) as IterableIterator<string>) out.time = Math.max(out.time, visibleWidth(utc(at)));
    }
  }
}

/**
 * A note's data as ir writes it, `{"text":"…"}` with nothing in the text to unescape (no quote,
 * backslash or control character): JSON.parse of it gives `{ text }` of exactly that text. Most of a
 * long timeline is notes, and JSON.parse of one costs about three times this match.
 */
// eslint-disable-next-line no-control-regex -- the control characters JSON forbids raw in a string
const PLAIN_NOTE = /^\{"text":"([^"\\\u0000-\u001f]*)"\}$/;

/** An event's data as parseEventData reads it. */
export function eventData(text: string): Record<string, unknown> {
  const note = PLAIN_NOTE.exec(text);
  return note ? { text: note[1] } : parseEventData(text);
}

/** Items of a --json array stringified together: fewer calls, same text (see writeJsonWithPages). */
const JSON_BATCH = 32;

/**
 * Seqs read at a time: a quarter of a chunk of parallel.ts for human rows, an eighth of one for
 * --json, whose rows (with their hashes) and objects are larger. A page is a range of seqs, not a
 * LIMIT, so it holds at most that many rows and human rows need not carry their seq to say where the
 * next begins. A page's rows are live until its text is written, and the young generation's
 * collections copy what is live: on the helper thread (a 4 MB young generation) pages of 256 human
 * rows render a fifth faster than pages of 1,024.
 */
const PAGE = 256;
const JSON_PAGE = 128;

type Row = (string | number | null)[];

/** Bytes of text written as they come into one growing buffer, off the JavaScript heap. */
class Bytes {
  buf: Buffer;
  used = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  add(text: string): void {
    const room = this.buf.length - this.used;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the exact count only near the end.
    if (text.length * 3 > room) {
      const need = Buffer.byteLength(text);
      if (need > room) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + need));
        this.buf.copy(bigger, 0, 0, this.used);
        this.buf = bigger;
      }
    }
    this.used += this.buf.write(text, this.used);
  }
}

export class RangeRenderer {
  /** A page of the incident's rows in a span of its runs: a walk of the table in seq order. */
  private readonly rows: Database.Statement;
  private readonly page: number;
  private readonly row?: (e: TimelineEvent) => string;
  // One event object reused for every row: the describing and formatting keep nothing of it.
  private readonly event: TimelineEvent;
  /** Bytes of text per seq in the last chunk. */
  private perSeq: number;

  constructor(
    private readonly db: Database.Database,
    private readonly incidentId: string,
    opts: { json: boolean; widths?: ColumnWidths; dim?: (text: string) => string },
  ) {
    // Each value the driver hands over costs a string of its own: a human row reads no seq.
    const columns = opts.json ? 'seq, at, type, actor, data, hash, origin, recorded_at' : 'at, type, actor, data, recorded_at';
    this.rows = db.prepare(`SELECT ${columns} FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`).raw(true);
    if (!opts.json) this.row = rowFormatter(opts.widths!, opts.dim ?? ((t) => t));
    this.perSeq = opts.json ? 512 : 96;
    this.page = opts.json ? JSON_PAGE : PAGE;
    this.event = { seq: 0, incidentId, at: '', type: '', actor: '', data: {}, prevHash: '', hash: '' };
  }

  /**
   * The events with seq in [from, to] as UTF-8: human lines, or --json array items (empty for none).
   * The bytes are the view's own buffer, which can be handed to another thread.
   */
  render(from: number, to: number): Uint8Array {
    // Sized from the chunks before, so a chunk's text is rarely copied to grow.
    const out = new Bytes(Math.max(4096, Math.ceil(this.perSeq * (to - from + 1) * 1.125)));
    let first = true;
    for (const [start, end] of spans(this.db, this.incidentId, from, to)) {
      for (let lo = start; lo <= end; lo += this.page) {
        const rows = this.rows.all(this.incidentId, lo, Math.min(end, lo + this.page - 1)) as Row[];
        if (this.row) this.human(rows, out);
        else this.json(rows, out, first);
        if (rows.length) first = false;
      }
    }
    if (out.used) this.perSeq = out.used / (to - from + 1);
    return out.buf.subarray(0, out.used);
  }

  private human(rows: Row[], out: Bytes): void {
    const e = this.event;
    const row = this.row!;
    // A page's lines joined before they are encoded: one write into the buffer rather than one a row.
    let text = '';
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      e.at = r[0] as string;
      e.type = r[1] as string;
      e.actor = r[2] as string;
      e.data = eventData(r[3] as string);
      const recordedAt = r[4] as string | null;
      if (recordedAt) e.recordedAt = recordedAt;
      else if (e.recordedAt !== undefined) delete e.recordedAt;
      text += row(e);
    }
    if (text) out.add(text);
  }

  private json(rows: Row[], out: Bytes, first: boolean): void {
    for (let at = 0; at < rows.length; at += JSON_BATCH) {
      const end = Math.min(rows.length, at + JSON_BATCH);
      const items = new Array(end - at);
      for (let i = at; i < end; i++) {
        const r = rows[i];
        const e: TimelineEvent = { seq: r[0] as number, incidentId: this.incidentId, at: r[1] as string, type: r[2] as string, actor: r[3] as string, data: eventData(r[4] as string), prevHash: '', hash: r[5] as string };
        if (r[6]) e.origin = r[6] as string;
        if (r[7]) e.recordedAt = r[7] as string;
        items[i - at] = eventJson(e);
      }
      // Nested two arrays deep, as writeJsonWithPages does: the items' own indentation and separators.
      const batch = JSON.stringify([items], null, 2).slice(5, -6);
      out.add(first && at === 0 ? batch : `,${batch}`);
    }
  }
}
