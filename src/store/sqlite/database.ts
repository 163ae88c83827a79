// The SQLite backend's engine: one file, WAL, an append-only event log with a per-incident sha256
// chain. Synchronous (better-sqlite3); SqliteStore (./store.ts) puts the async Store interface on it.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { UserError } from '../../errors.js';
import { applyEvent, PROJECTED_TYPES, type Incident, type NewEvent, type TimelineEvent } from '../../core/incident.js';
import { canonicalJson, isoTime } from '../canonical.js';
import { ChainStretch, chainVerdict, eventHash, GENESIS_HASH, isCurrentShape, joinStretches, judgeAnchor, parseEventData, recordDigest, sha256Hex, summarize, toEvent, type EventRow, type ProjectedRow, type StretchSummary } from '../chain.js';
import { MIGRATIONS } from '../migrations.js';
import { openSqlite } from './driver.js';
import { streamEvent } from './pages.js';
import { bounds, LAST_EVENT_JOIN, lastSeqSql, MAX_SEQ, spans, type Span } from './spans.js';
import { walkStretch } from './stretch.js';
import { AlreadyDelivered, type AnchorResult, type ChainHead, type Decide, type DeclareInput, type EventOutline, MAX_OUTLINE_ACTORS, type VerifyResult, type WriteOptions } from '../types.js';

/** Long enough to ride out any writer holding the lock; writers hold it for milliseconds. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * WAL pages between automatic checkpoints (SQLite's default is 1000). Each checkpoint waits for two
 * fsyncs, the WAL's and the database's: at 1000 a long writer (a runbook run, a run of appends) waited
 * for them every 500 or so appends, and on a busy disk that wait was up to a third of an append's time
 * (bench/append.js). At 4000 the WAL grows to about 16 MiB during a long write, and it still goes when
 * the last connection closes. Durability is the same: a commit is synced as `synchronous` says.
 */
export const WAL_CHECKPOINT_PAGES = 4000;

interface IncidentRow {
  id: string;
  state: string;
  severity: string;
  declared_at: string;
  resolved_at: string | null;
  doc: string;
  head_seq: number;
  head_hash: string;
}

/** An incident row with its newest event: what `trusted()` needs to check the cache in O(1). */
const CACHED_SQL = `SELECT i.id, i.state, i.severity, i.declared_at, i.resolved_at, i.doc, i.head_seq, i.head_hash,
    e.seq, e.at, e.type, e.actor, e.data, e.prev_hash, e.hash, e.state_sha256, e.origin, e.recorded_at
  FROM incidents i ${LAST_EVENT_JOIN}`;

/** An incident's record as canonical JSON, its sha256 (the digest events carry) and the record itself. */
interface Folded {
  incident: Incident;
  doc: string;
  digest: string;
}

/** This connection's own account of an incident (see SqliteDatabase.written). */
interface Written {
  /** Its newest event, which this connection wrote or checked. */
  seq: number;
  hash: string;
  /** The record after that event (frozen: handed to every decide and caller), its canonical JSON and digest. */
  incident: Incident;
  doc: string;
  digest: string;
  /** The event the row's head was left at by this connection; -1 when not known. */
  rowSeq: number;
  /**
   * PRAGMA data_version when this account was last written or checked against the store. Another
   * connection's commit moves the version, so an account older than the version now may have been
   * overtaken even when this connection's own last append (to another incident) saw the move.
   */
  version: number;
}

type CachedRow = IncidentRow & { seq: number | null; at: string; type: string; actor: string; data: string; prev_hash: string; hash: string; state_sha256: string | null; origin: string | null; recorded_at: string | null };

/**
 * From this many events an incident's chain is checked on two threads; below it, starting the
 * helper thread (about 40 ms) costs more than it saves.
 */
export const PARALLEL_VERIFY_MIN = 20_000;

/** The first stretch's share of a long chain: the two threads do the same work per event. */
const FIRST_SHARE = 0.5;

/** The second helper posts back at most this many rows of the projected types; beyond, the main thread reads them. */
const KEEP_PROJECTED = 4096;

/** The first seq of the second stretch, for an incident whose events span seq lo to hi. */
export function verifyCut(lo: number, hi: number): number {
  return lo + Math.floor((hi - lo + 1) * FIRST_SHARE);
}

/** The helper thread's module, next to this one in dist (bundled or not); absent when run from src. */
const HELPER = new URL('./verify-worker.js', import.meta.url);

/** An `at` exactly as toISOString writes it, as a GLOB pattern. */
const ISO_GLOB = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z';

/** Files holding the store: the database and SQLite's WAL and shared-memory companions. */
const STORE_FILES = (path: string) => [path, `${path}-wal`, `${path}-shm`];


export class SqliteDatabase {
  private constructor(readonly db: Database.Database, readonly path: string, private readonly origin: string | null) {}

  static open(path: string, opts: { synchronous?: 'FULL' | 'NORMAL'; origin?: string } = {}): SqliteDatabase {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Notes and names are private: the file exists with mode 0600 before SQLite opens it, and SQLite
    // gives its -wal and -shm files the database's mode. Files an older ir left 0644 are tightened.
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    for (const f of STORE_FILES(path)) {
      try {
        chmodSync(f, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const db = openSqlite(path, BUSY_TIMEOUT_MS);
    try {
      const schema = db.pragma('user_version', { simple: true }) as number;
      if (schema > MIGRATIONS.length) {
        throw new UserError(`${path} was written by a newer ir (schema ${schema}; this ir knows schema ${MIGRATIONS.length}): upgrade ir`);
      }
      db.pragma('journal_mode = WAL');
      // FULL: in WAL mode NORMAL may lose the last commits on power loss; FULL syncs the WAL at every
      // commit, so an event `ir` has reported recorded survives a crash of the machine. Cost: bench/append.js.
      db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      // SQLite's own default (2 MiB) instead of better-sqlite3's 16 MiB: commands read a long
      // timeline once, in order, where a bigger cache only adds to their resident memory.
      db.pragma('cache_size = -2000');
      db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      const store = new SqliteDatabase(db, path, opts.origin ?? null);
      store.migrate();
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private readonly statements = new Map<string, Database.Statement>();
  /** Statements that return rows as arrays (better-sqlite3's raw mode), for the long reads. */
  private readonly rawStatements = new Map<string, Database.Statement>();

  /** Prepared once per connection: preparing costs more than running these small statements. */
  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  close(): void {
    if (!this.db.open) return;
    this.settle();
    this.db.close();
  }

  private migrate(): void {
    const current = () => this.db.pragma('user_version', { simple: true }) as number;
    if (current() >= MIGRATIONS.length) return;
    // Another process may be migrating the same file: take the write lock, then look again.
    this.db
      .transaction(() => {
        if (current() > MIGRATIONS.length) throw new UserError(`${this.path} was written by a newer ir (schema ${current()}): upgrade ir`);
        for (let v = current(); v < MIGRATIONS.length; v++) {
          this.db.exec(MIGRATIONS[v]);
          this.db.pragma(`user_version = ${v + 1}`);
        }
      })
      .immediate();
  }

  /** Runs fn in a write transaction taken up front, so concurrent writers queue instead of failing. */
  write<T>(fn: () => T): T {
    // One transaction function for every write (better-sqlite3 builds a wrapper per call otherwise);
    // nested writes still become savepoints.
    this.tx ??= this.db.transaction((f: () => unknown) => f());
    return this.tx.immediate(fn) as T;
  }

  private tx: Database.Transaction<(f: () => unknown) => unknown> | undefined;

  /**
   * What this connection derived from the events of each incident it wrote to: its newest event there,
   * the record after it (canonical JSON and digest), and the event it left the row's head at. It is
   * never what the row says, so an edited row cannot steer a decision through it.
   */
  private readonly written = new Map<string, Written>();

  /**
   * The store as this connection left it at its last committed append or declare: PRAGMA data_version
   * read inside that transaction (it moves only when another connection commits) and the store's
   * newest seq. While the version stands, nobody else wrote: `written` and `top` are the store's
   * state, and the next append needs no read before it inserts.
   */
  private tip: { version: number; top: number } | undefined;

  private dataVersion(): number {
    this.versionStmt ??= this.db.prepare('PRAGMA data_version').pluck();
    return this.versionStmt.get() as number;
  }

  private versionStmt: Database.Statement | undefined;

  /** Opens a new incident with its first event; the id is allocated inside the same transaction. */
  declare(input: DeclareInput, at: Date, actor: string, opts: WriteOptions = {}): { incident: Incident; event: TimelineEvent } {
    const outer = !this.db.inTransaction;
    const tip = this.tip;
    // Stale from here until this write commits at the top level: inside an enclosing write that may
    // still roll back, the events it adds are not this connection's to vouch for.
    this.tip = undefined;
    let version = 0;
    let result: { incident: Incident; event: TimelineEvent; state: Folded };
    try {
      result = this.write(() => {
        version = this.dataVersion();
        const day = at.toISOString().slice(0, 10).replaceAll('-', '');
        const prefix = `INC-${day}-`;
        const last = this.sql(`SELECT id FROM incidents WHERE id LIKE ? ORDER BY length(id) DESC, id DESC LIMIT 1`)
          .get(`${prefix}%`) as { id: string } | undefined;
        const n = last ? Number(last.id.slice(prefix.length)) + 1 : 1;
        const id = `${prefix}${String(n).padStart(3, '0')}`;
        const data: Record<string, unknown> = { ...input };
        for (const k of Object.keys(data)) if (data[k] === undefined || data[k] === '') delete data[k];
        // The row comes first (events reference it) and takes its head once the event exists.
        this.sql(
            `INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash)
             VALUES (?, 'investigating', ?, ?, NULL, '{}', 0, ?)`,
          )
          .run(id, String(input.severity), at.toISOString(), GENESIS_HASH);
        this.checkDelivery(opts.deliveryKey);
        const { top } = this.sql(`SELECT coalesce(max(seq), 0) AS top FROM events`).get() as { top: number };
        const { event, state } = this.insertEvent(id, top + 1, GENESIS_HASH, undefined, { type: 'incident.declared', data }, at, actor, opts, false);
        this.recordDelivery(opts.deliveryKey, id, event.seq);
        this.sql(`UPDATE incidents SET state = ?, severity = ?, doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`)
          .run(state.incident.state, state.incident.severity, state.doc, event.seq, event.hash, id);
        return { incident: state.incident, event, state };
      });
    } catch (err) {
      // Rolled back: the store is as this connection last left it.
      if (outer) this.tip = tip;
      throw err;
    }
    if (outer) {
      const { event, state } = result;
      this.written.set(event.incidentId, { seq: event.seq, hash: event.hash, incident: deepFreeze(state.incident), doc: state.doc, digest: state.digest, rowSeq: event.seq, version });
      this.tip = { version, top: event.seq };
    }
    return { incident: result.incident, event: result.event };
  }

  /**
   * Appends events to an incident atomically. `decide` sees the incident as it stands inside the
   * write lock, so a check such as "is this state change allowed" cannot race another writer.
   *
   * The row's head moves with every append that changes the record, and with any append that had to
   * read the store (another connection wrote since this one's last commit). An append that finds its
   * own account current and leaves the record as it was (a note, a step's output) writes the event
   * alone: one page fewer for SQLite to write at commit. close() then moves the head up to the end.
   */
  append(
    incidentId: string,
    decide: Decide,
    at: Date,
    actor: string,
    opts: WriteOptions = {},
  ): { incident: Incident; events: TimelineEvent[] } {
    const outer = !this.db.inTransaction;
    const tip = this.tip;
    this.tip = undefined;
    let version = 0;
    let result: { incident: Incident; events: TimelineEvent[]; top: number; after?: Written };
    try {
      result = this.write(() => {
        // Read inside the write lock: no other connection can commit between this read and the insert.
        version = this.dataVersion();
        let mine = this.written.get(incidentId);
        // Nothing committed by another connection since this one's last write: its own account of the
        // incident and of the store's newest seq is current, and nothing needs reading.
        // The account of this incident must date from this version too: an append to another incident
        // that found the version moved brought the tip up to date, not the account of this one.
        const fresh = mine !== undefined && tip !== undefined && tip.version === version && mine.version === version;
        let top: number;
        let columns: Pick<IncidentRow, 'state' | 'severity' | 'resolved_at'> | undefined;
        if (fresh && mine && tip) {
          top = tip.top;
        } else {
          // Someone else may have written: one read for the incident's newest event, the store's newest
          // seq (events are numbered store-wide) and the mirrored columns, so the update writes only
          // what changed.
          const row = this.sql(
            `SELECT i.state, i.severity, i.resolved_at, e.seq AS last_seq, e.hash AS last_hash, (SELECT max(seq) FROM events) AS top_seq
             FROM incidents i ${LAST_EVENT_JOIN} WHERE i.id = ?`,
          ).get(incidentId) as (Pick<IncidentRow, 'state' | 'severity' | 'resolved_at'> & { last_seq: number | null; last_hash: string | null; top_seq: number | null }) | undefined;
          if (!row) throw new Error(`no incident ${incidentId}`);
          top = row.top_seq ?? 0;
          columns = row;
          // What this connection wrote stands while its event is still the incident's newest; otherwise
          // the incident as its events say it is (the cache only when the chain vouches for it).
          if (!mine || mine.seq !== row.last_seq || mine.hash !== row.last_hash) {
            const incident = this.record(incidentId);
            if (!incident || row.last_seq === null || row.last_hash === null) throw new Error(`incident ${incidentId} has no events`);
            const doc = canonicalJson(incident);
            mine = { seq: row.last_seq, hash: row.last_hash, incident: deepFreeze(incident), doc, digest: sha256Hex(doc), rowSeq: -1, version };
          }
        }
        // Frozen, so neither decide nor a caller can change what the next append decides on.
        const start = mine.incident;
        columns ??= { state: start.state, severity: start.severity, resolved_at: start.resolvedAt ?? null };
        this.checkDelivery(opts.deliveryKey);
        const wanted = decide(start);
        const list = Array.isArray(wanted) ? wanted : [wanted];
        // After a read the row is rewritten as it always was (head, doc, mirrored columns); an append on
        // a current account rewrites it only when the record changes.
        let rewrite = !fresh;
        let state: Folded = { incident: start, doc: mine.doc, digest: mine.digest };
        let head = mine.hash;
        let seq = top;
        // The first event continues the store's last run when the store's newest event is this
        // incident's; the rest continue the first.
        let continues = mine.seq === top;
        const events: TimelineEvent[] = [];
        for (const e of list) {
          const written = this.insertEvent(incidentId, ++seq, head, state, e, at, actor, opts, continues);
          continues = true;
          if (written.state.digest !== state.digest) rewrite = true;
          state = written.state;
          head = written.event.hash;
          events.push(written.event);
        }
        const last = events.at(-1);
        if (!last) return { incident: state.incident, events, top };
        let rowSeq = mine.rowSeq;
        if (rewrite) {
          const incident = state.incident;
          const resolvedAt = incident.resolvedAt ?? null;
          // The mirrored columns are rewritten only when they change: rewriting them re-indexes the row
          // (incidents_state), one more page for SQLite to write at every commit.
          if (columns.state === incident.state && columns.severity === incident.severity && columns.resolved_at === resolvedAt) {
            this.sql(`UPDATE incidents SET doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`).run(state.doc, last.seq, last.hash, incidentId);
          } else {
            this.sql(`UPDATE incidents SET state = ?, severity = ?, resolved_at = ?, doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`)
              .run(incident.state, incident.severity, resolvedAt, state.doc, last.seq, last.hash, incidentId);
          }
          rowSeq = last.seq;
        }
        this.recordDelivery(opts.deliveryKey, incidentId, last.seq);
        return { incident: state.incident, events, top: last.seq, after: { seq: last.seq, hash: last.hash, incident: deepFreeze(state.incident), doc: state.doc, digest: state.digest, rowSeq, version } };
      });
    } catch (err) {
      if (outer) this.tip = tip;
      throw err;
    }
    // Remembered once committed; inside an enclosing write (evidence) that may still roll back, not at
    // all (the tip stays unknown, so the next append reads and checks against the events).
    if (outer) {
      if (result.after) this.written.set(incidentId, result.after);
      this.tip = { version, top: result.top };
    }
    return { incident: result.incident, events: result.events };
  }

  /**
   * Moves each row head this connection left behind its own newest event up to that event, so that
   * `verify` can again tell events removed from the end. Only forward: another connection that
   * wrote after this one has moved the head past it already (its first append reads, and rewrites).
   */
  private settle(): void {
    const behind = [...this.written].filter(([, w]) => w.rowSeq !== w.seq);
    if (!behind.length || this.db.inTransaction || this.db.readonly) return;
    try {
      this.write(() => {
        for (const [id, w] of behind) this.sql(`UPDATE incidents SET head_seq = ?, head_hash = ? WHERE id = ? AND head_seq < ?`).run(w.seq, w.hash, id, w.seq);
      });
      for (const [, w] of behind) w.rowSeq = w.seq;
    } catch {
      // A head left behind costs verify its view of the tail, not an event: closing must not fail over it.
    }
  }

  /** Refuses a write whose key is already recorded (inside the write transaction). */
  private checkDelivery(key: string | undefined): void {
    if (!key) return;
    const done = this.delivery(key);
    if (done) throw new AlreadyDelivered(key, done.incidentId, done.seq);
  }

  private recordDelivery(key: string | undefined, incidentId: string, seq: number): void {
    if (key) this.sql(`INSERT INTO deliveries (key, incident_id, seq, delivered_at) VALUES (?, ?, ?, ?)`).run(key, incidentId, seq, new Date().toISOString());
  }

  delivery(key: string): { incidentId: string; seq: number } | undefined {
    const row = this.sql(`SELECT incident_id, seq FROM deliveries WHERE key = ?`).get(key) as { incident_id: string; seq: number } | undefined;
    return row && { incidentId: row.incident_id, seq: row.seq };
  }

  /**
   * Writes one event numbered `seq` (the caller holds the write lock and knows the store's newest
   * seq). An event of a type the projection reads is folded and the record serialised once,
   * canonically: its sha256 is the digest the event carries, and the same text is the row's cached
   * doc. Any other type leaves the record as it was (PROJECTED_TYPES), so it carries the digest of
   * the record before it, unchanged, and nothing is folded or serialised.
   *
   * `continues` says the caller knows the store's newest event (seq - 1's place) is this incident's:
   * the event extends that run and event_runs is left alone. Otherwise the event begins a run, which
   * is recorded here unless the event before it turns out to be of this incident after all (an
   * orphan of a reused id). Migration 11 gave this to the one writer of events instead of a trigger
   * run at every insert (bench/append.js).
   */
  private insertEvent(
    incidentId: string,
    seq: number,
    prevHash: string,
    before: Folded | undefined,
    e: NewEvent,
    at: Date,
    actor: string,
    opts: WriteOptions,
    continues: boolean,
  ): { event: TimelineEvent; state: Folded } {
    const data = canonicalJson(e.data);
    const when = isoTime(at);
    const type = e.type;
    let state = before;
    if (!state || PROJECTED_TYPES.has(type)) {
      const incident = applyEvent(state?.incident, { incidentId, at: when, type, actor, data: JSON.parse(data) as Record<string, unknown> });
      const doc = canonicalJson(incident);
      state = { incident, doc, digest: sha256Hex(doc) };
    }
    const origin = this.origin;
    const recordedAt = opts.recordedAt ? isoTime(opts.recordedAt) : null;
    const hash = eventHash(prevHash, { seq, incident_id: incidentId, at: when, type, actor, data, state_sha256: state.digest, origin, recorded_at: recordedAt });
    this.sql(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(seq, incidentId, when, type, actor, data, prevHash, hash, state.digest, origin, recordedAt);
    if (!continues) {
      this.sql(
        `INSERT INTO event_runs (seq, incident_id) SELECT ?, ? WHERE (SELECT incident_id FROM events WHERE seq < ? ORDER BY seq DESC LIMIT 1) IS NOT ?`,
      ).run(seq, incidentId, seq, incidentId);
    }
    // The event handed back gets its own parse of the data: the record may hold parts of the one folded.
    const event: TimelineEvent = { seq, incidentId, at: when, type, actor, data: JSON.parse(data) as Record<string, unknown>, prevHash, hash };
    if (origin) event.origin = origin;
    if (recordedAt) event.recordedAt = recordedAt;
    return { event, state };
  }

  /**
   * The incident as its events say it is. The row's `doc` is a cache for SQL queries and speed: it is
   * used only when the newest event's hash recomputes and the digest that event carries is the digest
   * of the cached record; otherwise the events are folded again. The row's head plays no part: it may
   * stand before the newest event (see append), and the newest event vouches for the record alone.
   */
  getIncident(id: string): Incident | undefined {
    return this.record(id);
  }

  /** Open incidents (or all with `all`), newest first; state and order as the events say. */
  listIncidents(opts: { all?: boolean } = {}): Incident[] {
    // One row at a time: only the incidents kept are held, not every row of a long history.
    const rows = this.sql(`${CACHED_SQL} ORDER BY i.declared_at DESC, i.id DESC`).iterate() as IterableIterator<CachedRow>;
    const out: Incident[] = [];
    for (const row of rows) {
      const incident = this.trusted(row) ?? this.derive(row.id);
      if (incident && (opts.all || incident.state !== 'resolved')) out.push(incident);
    }
    return out.sort((a, b) => (a.declaredAt === b.declaredAt ? (a.id < b.id ? 1 : -1) : a.declaredAt < b.declaredAt ? 1 : -1));
  }

  private record(id: string): Incident | undefined {
    const row = this.sql(`${CACHED_SQL} WHERE i.id = ?`).get(id) as CachedRow | undefined;
    if (!row) return undefined;
    return this.trusted(row) ?? this.derive(id);
  }

  /** The cached record when the chain vouches for it, else undefined. */
  private trusted(row: CachedRow): Incident | undefined {
    if (row.seq === null || row.state_sha256 === null) return undefined;
    if (eventHash(row.prev_hash, { ...row, seq: row.seq, incident_id: row.id }) !== row.hash) return undefined;
    let doc: Incident;
    try {
      doc = JSON.parse(row.doc) as Incident;
    } catch {
      return undefined;
    }
    // The doc is stored as the canonical text its digest was taken over, so its own hash settles it
    // without re-serialising; a doc an older ir wrote (plain JSON.stringify) is canonicalised first.
    if (sha256Hex(row.doc) !== row.state_sha256 && recordDigest(doc) !== row.state_sha256) return undefined;
    // A record cached by an older ir lacks fields the projection has since gained: fold instead.
    if (!isCurrentShape(doc)) return undefined;
    if (doc.state !== row.state || doc.severity !== row.severity || doc.declaredAt !== row.declared_at || (doc.resolvedAt ?? null) !== row.resolved_at) return undefined;
    return doc;
  }

  /** Folds an incident's events into its record, streaming (no array of events is built). */
  private derive(id: string): Incident | undefined {
    let incident: Incident | undefined;
    const stmt = this.sql(`SELECT incident_id, at, type, actor, data FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`);
    for (const [lo, hi] of spans(this.db, id)) {
      for (const row of stmt.iterate(id, lo, hi) as IterableIterator<Pick<EventRow, 'incident_id' | 'at' | 'type' | 'actor' | 'data'>>) {
        const event = { incidentId: row.incident_id, at: row.at, type: row.type, actor: row.actor, data: parseEventData(row.data) };
        // A chain that does not start with its declaration is for --verify to report; skip, don't crash.
        if (!incident && event.type !== 'incident.declared') continue;
        incident = applyEvent(incident, event);
      }
    }
    return incident;
  }

  /** The newest event of an incident's chain, or undefined for an unknown incident. */
  head(incidentId: string): ChainHead | undefined {
    const row = this.sql(`SELECT seq, hash, at FROM events WHERE seq = ${lastSeqSql('@id')}`).get({ id: incidentId }) as
      | { seq: number; hash: string; at: string }
      | undefined;
    return row ? { incidentId, seq: row.seq, hash: row.hash, at: row.at } : undefined;
  }

  /**
   * Up to `limit` rows of the incident after `afterSeq`, in seq order: `read` runs one statement over a
   * span (its ends and the rows still wanted), and spans are walked until enough rows came.
   */
  private overSpans<R>(incidentId: string, afterSeq: number, limit: number, read: (lo: number, hi: number, n: number) => R[]): R[] {
    let out: R[] | undefined;
    let from = afterSeq + 1;
    // The next page of a long read mostly lies in the span the last one ended in: a span stays true
    // (seqs only grow, so no run can begin inside one), and it is read without asking for spans again.
    const last = this.lastSpan;
    if (last && last.incidentId === incidentId && from >= last.span[0] && from <= last.span[1]) {
      out = read(from, last.span[1], limit);
      if (out.length >= limit || last.span[1] >= MAX_SEQ) return out;
      from = last.span[1] + 1;
    }
    for (const span of spans(this.db, incidentId, from)) {
      const rows = read(Math.max(span[0], from), span[1], limit - (out?.length ?? 0));
      if (!out) out = rows;
      else for (const r of rows) out.push(r);
      if (out.length >= limit) {
        this.lastSpan = { incidentId, span };
        break;
      }
    }
    return out ?? [];
  }

  /** The span of runs (spans.ts) where the last full page of a per-incident read ended. */
  private lastSpan: { incidentId: string; span: Span } | undefined;

  /** A page of an incident's events after `afterSeq`: statements are not held open between pages. */
  eventsAfter(incidentId: string, afterSeq: number, limit: number): TimelineEvent[] {
    const stmt = this.sql(`SELECT * FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`);
    const rows = this.overSpans(incidentId, afterSeq, limit, (lo, hi, n) => stmt.all(incidentId, lo, hi, n) as EventRow[]);
    return rows.map((r) => toEvent(r));
  }

  /**
   * The same page, for streaming: rows read as arrays (better-sqlite3 builds no object per row) and
   * only the columns an event carries, which halves the cost of reading a long timeline; a hash the
   * reader has no use for is not read at all ('' in its place).
   */
  streamPage(incidentId: string, afterSeq: number, limit: number, without?: readonly ('prevHash' | 'hash')[]): TimelineEvent[] {
    const prev = !without?.includes('prevHash');
    const own = !without?.includes('hash');
    const key = `page:${prev ? 'p' : ''}${own ? 'h' : ''}`;
    const stmt =
      this.rawStatements.get(key) ??
      this.db.prepare(`SELECT seq, at, type, actor, data, origin, recorded_at${prev ? ', prev_hash' : ''}${own ? ', hash' : ''} FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`).raw(true);
    this.rawStatements.set(key, stmt);
    const rows = this.overSpans(incidentId, afterSeq, limit, (lo, hi, n) => stmt.all(incidentId, lo, hi, n) as (string | number | null)[][]);
    const out: TimelineEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const event = streamEvent(incidentId, r[0] as number, r[1] as string, r[2] as string, r[3] as string, parseEventData(r[4] as string), prev ? (r[7] as string) : '', own ? (r[prev ? 8 : 7] as string) : '', r[5] as string | null, r[6] as string | null);
      out[i] = event;
    }
    return out;
  }

  /**
   * What an aligned timeline needs before its first row, from SQLite's own scan of the incident's
   * rows (no event is built): a few hundred milliseconds for a million events, against seconds to
   * read them. Undefined past MAX_OUTLINE_ACTORS actors, which a real incident never has.
   */
  eventOutline(incidentId: string): EventOutline | undefined {
    const stmt =
      this.rawStatements.get('outline') ??
      this.db.prepare(`SELECT actor, count(*), min(at GLOB '${ISO_GLOB}') FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? GROUP BY actor LIMIT ${MAX_OUTLINE_ACTORS + 1}`).raw(true);
    this.rawStatements.set('outline', stmt);
    const actors = new Set<string>();
    const outline: EventOutline = { count: 0, actors: [], isoTimes: true };
    for (const [lo, hi] of spans(this.db, incidentId)) {
      for (const [actor, count, iso] of stmt.all(incidentId, lo, hi) as [string, number, number][]) {
        actors.add(actor);
        outline.count += count;
        if (!iso) outline.isoTimes = false;
      }
      if (actors.size > MAX_OUTLINE_ACTORS) return undefined;
    }
    outline.actors = [...actors];
    return outline;
  }

  /** A page of every incident's events after `afterSeq`, for a view that follows them all. */
  allEventsAfter(afterSeq: number, limit: number): TimelineEvent[] {
    const rows = this.sql(`SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?`).all(afterSeq, limit) as EventRow[];
    return rows.map((r) => toEvent(r));
  }

  /** The newest seq in the store; seq is the rowid, so this reads one index page. */
  latestSeq(): number {
    return (this.sql(`SELECT coalesce(max(seq), 0) AS seq FROM events`).get() as { seq: number }).seq;
  }

  events(incidentId: string): TimelineEvent[] {
    const stmt = this.sql(`SELECT * FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq`);
    const rows: EventRow[] = [];
    for (const [lo, hi] of spans(this.db, incidentId)) for (const r of stmt.iterate(incidentId, lo, hi) as IterableIterator<EventRow>) rows.push(r);
    return rows.map((r) => toEvent(r));
  }

  /** Walks each incident's chain: every prev_hash links, every hash recomputes, the head matches. */
  async verify(incidentId?: string, anchors: { seq: number; hash: string }[] = []): Promise<VerifyResult> {
    const cols = `id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash`;
    const incidents = (
      incidentId
        ? this.sql(`SELECT ${cols} FROM incidents WHERE id = ?`).all(incidentId)
        : this.sql(`SELECT ${cols} FROM incidents ORDER BY id`).all()
    ) as IncidentRow[];
    const result: VerifyResult = { ok: true, incidents: incidents.length, events: 0, problems: [], anchors: [] };
    const intact = new Set<string>();
    for (const inc of incidents) {
      const walked = await this.walkChain(inc.id);
      result.events += walked.events;
      const bad = chainVerdict(inc.id, walked, this.headAtEnd(inc, walked));
      if (bad) result.problems.push(bad);
      else intact.add(inc.id);
    }
    for (const a of anchors) result.anchors.push(await this.checkAnchor(a, intact, incidentId));
    for (const a of result.anchors) if (!a.ok) result.problems.push({ incidentId: a.incidentId ?? incidentId ?? '?', seq: a.seq, reason: a.reason });
    for (const o of this.orphans(incidentId, incidents)) result.problems.push({ incidentId: o.incident_id, seq: o.seq, reason: 'event belongs to no known incident' });
    if (!incidentId) for (const r of this.runsOutOfStep()) result.problems.push({ incidentId: r.incident_id, seq: r.seq, reason: r.reason });
    result.ok = result.problems.length === 0;
    return result;
  }

  /**
   * The row as chainVerdict should judge it. An append that found its own account current and left
   * the record unchanged does not move the row's head, so the head may stand before the chain's end:
   * that head counts as the end when it is an event of this chain (seq and hash) carrying the same
   * record digest as the last event, i.e. nothing after it changed the record. Any other head is
   * judged as it is, and a chain that ends before it was cut short.
   */
  private headAtEnd(inc: IncidentRow, walked: { lastSeq?: number; lastHash?: string }): IncidentRow {
    if (walked.lastSeq === undefined || walked.lastHash === undefined || inc.head_seq >= walked.lastSeq) return inc;
    const bySeq = this.sql(`SELECT hash, state_sha256 FROM events WHERE seq = ? AND incident_id = ?`);
    const head = bySeq.get(inc.head_seq, inc.id) as { hash: string; state_sha256: string | null } | undefined;
    const end = bySeq.get(walked.lastSeq, inc.id) as { hash: string; state_sha256: string | null } | undefined;
    if (!head || !end || head.hash !== inc.head_hash || head.state_sha256 === null || head.state_sha256 !== end.state_sha256) return inc;
    return { ...inc, head_seq: walked.lastSeq, head_hash: walked.lastHash };
  }

  /**
   * Events whose incident row is gone are orphans: the chain cannot vouch for them. The first 20 by
   * incident and seq (the order they were always listed in), found from the incident ids the events
   * name (one index seek each) instead of joining every event to its incident.
   */
  private orphans(incidentId: string | undefined, known: IncidentRow[]): { seq: number; incident_id: string }[] {
    const ids = new Set(known.map((i) => i.id));
    if (incidentId && ids.has(incidentId)) return [];
    // The incidents events name, one seek each in the index of their runs.
    const next = this.db.prepare(`SELECT incident_id FROM event_runs WHERE incident_id > ? ORDER BY incident_id LIMIT 1`).pluck();
    const gone: string[] = [];
    if (incidentId) gone.push(incidentId);
    else for (let id = next.get('') as string | undefined; id !== undefined; id = next.get(id) as string | undefined) if (!ids.has(id)) gone.push(id);
    const found: { seq: number; incident_id: string }[] = [];
    const stmt = this.sql(`SELECT seq, incident_id FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`);
    for (const id of gone) {
      for (const [lo, hi] of spans(this.db, id)) {
        for (const r of stmt.all(id, lo, hi, 20 - found.length) as { seq: number; incident_id: string }[]) found.push(r);
        if (found.length >= 20) return found;
      }
    }
    return found;
  }

  /**
   * Where event_runs disagrees with the events, which only an edit by hand can make (ir's one writer of
   * events keeps them in step, insertEvent): an event beginning a run that has no row there is hidden from its
   * incident's reads, and a row naming another incident than its event's claims a run that is not its
   * own. One walk of the table; the first few by seq.
   */
  private runsOutOfStep(): { seq: number; incident_id: string; reason: string }[] {
    const hidden = this.db
      .prepare(
        `SELECT seq, incident_id FROM (SELECT seq, incident_id, lag(incident_id) OVER (ORDER BY seq) AS before FROM events) e
         WHERE before IS NOT incident_id AND NOT EXISTS (SELECT 1 FROM event_runs r WHERE r.seq = e.seq AND r.incident_id = e.incident_id)
         ORDER BY seq LIMIT 20`,
      )
      .all() as { seq: number; incident_id: string }[];
    const claimed = this.db
      .prepare(`SELECT r.seq, r.incident_id, e.seq IS NULL AS gone FROM event_runs r LEFT JOIN events e ON e.seq = r.seq WHERE e.incident_id IS NOT r.incident_id ORDER BY r.seq LIMIT 20`)
      .all() as { seq: number; incident_id: string; gone: number }[];
    return [
      ...hidden.map((r) => ({ ...r, reason: 'event begins a run of its incident that event_runs does not record: reads of the incident skip it' })),
      ...claimed.map(({ seq, incident_id, gone }) => ({
        seq,
        incident_id,
        reason: gone ? 'a run of this incident began here (event_runs), but the event is gone: events were removed' : 'event_runs gives this incident a run at a seq whose event is not its own',
      })),
    ].sort((a, b) => a.seq - b.seq).slice(0, 20);
  }

  /**
   * One incident's chain, walked as verify reports it. A long chain is cut in two at a seq and each
   * stretch is walked by a helper thread on its own read-only connection: the first checks and folds
   * the record, the second checks links, hashes and JSON and keeps its few rows the record is made
   * of; this thread folds those onto the first's record, and joinStretches picks the first problem by
   * seq as one walk would. Both read rows up to the same seq, fixed here; events are append-only, so
   * those rows are the same on every connection.
   */
  private async walkChain(incidentId: string): Promise<ReturnType<typeof joinStretches>> {
    const ends = bounds(this.db, incidentId);
    if (!ends) return joinStretches(new ChainStretch(incidentId, { start: true, fold: true }), []);
    const { first: lo, last: hi } = ends;
    // The seq span bounds the event count (other incidents' events interleave), which is near enough to choose and cut.
    if (hi - lo + 1 < PARALLEL_VERIFY_MIN || !existsSync(this.path) || !existsSync(fileURLToPath(HELPER))) {
      const whole = new ChainStretch(incidentId, { start: true, fold: true });
      walkStretch(this.db, incidentId, lo, hi, whole);
      return joinStretches(whole, []);
    }
    // Loaded here, not at the top: most commands open the store and never verify a long chain.
    const { Worker } = await import('node:worker_threads');
    const split = verifyCut(lo, hi);
    // Both stretches on helper threads, each with a small young generation: the main thread's heap
    // would grow to its full default size under this allocation rate and stay there.
    const firstJob = runHelper(Worker, { path: this.path, incidentId, from: lo, to: split - 1, start: true, fold: true });
    // Handled at once (undefined on failure): a rejection left pending while the first is awaited would end the process.
    const laterJob = runHelper(Worker, { path: this.path, incidentId, from: split, to: hi, start: false, fold: false, keep: KEEP_PROJECTED }).catch(() => undefined);
    const here = (from: number, to: number, opts: ConstructorParameters<typeof ChainStretch>[1]) => {
      const s = new ChainStretch(incidentId, opts);
      walkStretch(this.db, incidentId, from, to, s);
      return s;
    };
    // Should a helper fail to start or run, this thread walks its stretch instead.
    const first = await firstJob.then(
      (s) => ChainStretch.resume(incidentId, s),
      () => here(lo, split - 1, { start: true, fold: true }),
    );
    const later = (await laterJob) ?? summarize(here(split, hi, { start: false, fold: false, keep: KEEP_PROJECTED }));
    if (later.kept) for (const [seq, at, type, actor, data] of later.kept) first.foldRow(seq, at, type, actor, data);
    else {
      // More such rows than were worth posting across: read them here.
      const types = [...PROJECTED_TYPES];
      const projected = this.db
        .prepare(`SELECT seq, at, type, actor, data FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY seq`)
        .raw(true);
      for (const [from, to] of spans(this.db, incidentId, split, hi)) {
        for (const [seq, at, type, actor, data] of projected.iterate(incidentId, from, to, ...types) as IterableIterator<ProjectedRow>) first.foldRow(seq, at, type, actor, data);
      }
    }
    return joinStretches(first, [later]);
  }

  /** An anchored head is proof only while the chain still contains it: the rules in chain.ts, over these tables. */
  private checkAnchor(anchor: { seq: number; hash: string }, intact: Set<string>, incidentId?: string): Promise<AnchorResult> {
    return judgeAnchor(anchor, intact, incidentId, {
      bySeq: (seq) => this.sql(`SELECT incident_id, hash FROM events WHERE seq = ?`).get(seq) as { incident_id: string; hash: string } | undefined,
      byHash: (hash) => this.sql(`SELECT incident_id, seq FROM events WHERE hash = ?`).get(hash) as { incident_id: string; seq: number } | undefined,
      incidentExists: (id) => this.sql(`SELECT 1 FROM incidents WHERE id = ?`).get(id) !== undefined,
      laterCount: (id, seq) => {
        const count = this.sql(`SELECT count(*) AS later FROM events WHERE incident_id = ? AND seq >= ? AND seq <= ?`);
        let later = 0;
        for (const [lo, hi] of spans(this.db, id, seq + 1)) later += (count.get(id, lo, hi) as { later: number }).later;
        return later;
      },
    });
  }
}

/**
 * Freezes a record and everything in it. A record this connection remembers is handed to each decide
 * and returned to each caller, not copied: a change to it is a TypeError, never a silent edit of what
 * the next append decides on. applyEvent copies what it changes, so it folds frozen records as any.
 */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Runs verify-worker.js over one stretch; resolves with what it posts, rejects if it fails or posts nothing. */
function runHelper(Worker: typeof import('node:worker_threads').Worker, job: { path: string; incidentId: string; from: number; to: number; start: boolean; fold: boolean; keep?: number }): Promise<StretchSummary> {
  return new Promise((resolve, reject) => {
    let summary: StretchSummary | undefined;
    const worker = new Worker(HELPER, { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    worker.once('message', (m: StretchSummary) => (summary = m));
    worker.once('error', reject);
    worker.once('exit', (code) => (summary ? resolve(summary) : reject(new Error(`the verify helper thread exited with code ${code} and no result`))));
  });
}
