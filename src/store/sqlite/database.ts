// The SQLite backend's engine: one file, WAL, an append-only event log with a per-incident sha256
// chain. Synchronous (better-sqlite3); SqliteStore (./store.ts) puts the async Store interface on it.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { UserError } from '../../errors.js';
import { applyEvent, PROJECTED_TYPES, type Incident, type NewEvent, type TimelineEvent } from '../../core/incident.js';
import { canonicalJson } from '../canonical.js';
import { ChainStretch, chainVerdict, eventHash, GENESIS_HASH, isCurrentShape, joinStretches, judgeAnchor, parseEventData, recordDigest, sha256Hex, summarize, toEvent, type EventRow, type ProjectedRow, type StretchSummary } from '../chain.js';
import { MIGRATIONS } from '../migrations.js';
import { openSqlite } from './driver.js';
import { walkStretch } from './stretch.js';
import { AlreadyDelivered, type AnchorResult, type ChainHead, type Decide, type DeclareInput, type EventOutline, MAX_OUTLINE_ACTORS, type VerifyResult, type WriteOptions } from '../types.js';

/** Long enough to ride out any writer holding the lock; writers hold it for milliseconds. */
const BUSY_TIMEOUT_MS = 30_000;

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
  FROM incidents i LEFT JOIN events e ON e.seq = (SELECT max(seq) FROM events WHERE incident_id = i.id)`;

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
    if (this.db.open) this.db.close();
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
   * The record this connection last wrote for each incident, as the JSON it stored, with the head it
   * wrote: while the incident's head is still that event, the next append decides on it without
   * reading and re-verifying the cached row. It is what this process derived from the events, never
   * what the row says, so an edited row still cannot steer a decision.
   */
  private readonly written = new Map<string, { seq: number; hash: string; doc: string }>();

  /** Opens a new incident with its first event; the id is allocated inside the same transaction. */
  declare(input: DeclareInput, at: Date, actor: string, opts: WriteOptions = {}): { incident: Incident; event: TimelineEvent } {
    const result = this.write(() => {
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
      const written = this.insertEvent(id, top + 1, GENESIS_HASH, undefined, { type: 'incident.declared', data }, at, actor, opts, true);
      const { event, incident } = written;
      const doc = written.doc as string;
      this.recordDelivery(opts.deliveryKey, id, event.seq);
      this.sql(`UPDATE incidents SET state = ?, severity = ?, doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`)
        .run(incident.state, incident.severity, doc, event.seq, event.hash, id);
      return { incident, event, doc };
    });
    // Remembered once committed: a rolled-back write leaves nothing behind.
    if (!this.db.inTransaction) this.written.set(result.incident.id, { seq: result.event.seq, hash: result.event.hash, doc: result.doc });
    return { incident: result.incident, event: result.event };
  }

  /**
   * Appends events to an incident atomically. `decide` sees the incident as it stands inside the
   * write lock, so a check such as "is this state change allowed" cannot race another writer.
   */
  append(
    incidentId: string,
    decide: Decide,
    at: Date,
    actor: string,
    opts: WriteOptions = {},
  ): { incident: Incident; events: TimelineEvent[] } {
    let doc: string | undefined;
    const result = this.write(() => {
      // One read for everything the append needs: the head, the incident's newest event (to see that
      // nothing was written since this connection's last append) and the store's newest seq (events
      // are numbered store-wide), plus the mirrored columns, so the update writes only what changed.
      const row = this.sql(
        `SELECT head_seq, head_hash, state, severity, resolved_at, (SELECT max(seq) FROM events WHERE incident_id = incidents.id) AS last_seq, (SELECT max(seq) FROM events) AS top_seq FROM incidents WHERE id = ?`,
      ).get(incidentId) as (Pick<IncidentRow, 'head_seq' | 'head_hash' | 'state' | 'severity' | 'resolved_at'> & { last_seq: number | null; top_seq: number | null }) | undefined;
      if (!row) throw new Error(`no incident ${incidentId}`);
      // Decisions are taken on the incident as its events say it is (the cache only when the chain
      // vouches for it, or what this connection itself wrote when nothing was written since), so an
      // edited row cannot steer a state check or leak into a new event.
      const mine = this.written.get(incidentId);
      let incident = mine && mine.seq === row.head_seq && mine.seq === row.last_seq && mine.hash === row.head_hash ? (JSON.parse(mine.doc) as Incident) : this.record(incidentId);
      if (!incident) throw new Error(`incident ${incidentId} has no events`);
      this.checkDelivery(opts.deliveryKey);
      const wanted = decide(incident);
      const list = Array.isArray(wanted) ? wanted : [wanted];
      let head = row.head_hash;
      let seq = row.top_seq ?? 0;
      const events: TimelineEvent[] = [];
      for (let i = 0; i < list.length; i++) {
        const written = this.insertEvent(incidentId, ++seq, head, incident, list[i], at, actor, opts, i === list.length - 1);
        incident = written.incident;
        head = written.event.hash;
        events.push(written.event);
        if (written.doc !== undefined) doc = written.doc;
      }
      if (events.length && doc !== undefined) {
        const last = events[events.length - 1];
        const resolvedAt = incident.resolvedAt ?? null;
        // The mirrored columns are rewritten only when they change: rewriting them re-indexes the row
        // (incidents_state), one more page for SQLite to write at every commit.
        if (row.state === incident.state && row.severity === incident.severity && row.resolved_at === resolvedAt) {
          this.sql(`UPDATE incidents SET doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`).run(doc, last.seq, last.hash, incidentId);
        } else {
          this.sql(`UPDATE incidents SET state = ?, severity = ?, resolved_at = ?, doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`)
            .run(incident.state, incident.severity, resolvedAt, doc, last.seq, last.hash, incidentId);
        }
        this.recordDelivery(opts.deliveryKey, incidentId, last.seq);
      }
      return { incident, events };
    });
    const last = result.events.at(-1);
    // Remembered once committed; inside an enclosing write (evidence) that may still roll back, not at all.
    if (last && doc !== undefined && !this.db.inTransaction) this.written.set(incidentId, { seq: last.seq, hash: last.hash, doc });
    return result;
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
   * seq). The record it produces is serialised once, canonically: its sha256 is the digest the event
   * carries, and for the last event of an append (`keep`) the same text is the row's cached doc.
   */
  private insertEvent(
    incidentId: string,
    seq: number,
    prevHash: string,
    before: Incident | undefined,
    e: NewEvent,
    at: Date,
    actor: string,
    opts: WriteOptions,
    keep: boolean,
  ): { event: TimelineEvent; incident: Incident; doc?: string } {
    const data = canonicalJson(e.data);
    const parsed = JSON.parse(data) as Record<string, unknown>;
    const fields = { incident_id: incidentId, at: at.toISOString(), type: e.type, actor, data };
    const incident = applyEvent(before, { incidentId, at: fields.at, type: fields.type, actor, data: parsed });
    const doc = canonicalJson(incident);
    const row = { seq, ...fields, state_sha256: sha256Hex(doc), origin: this.origin, recorded_at: opts.recordedAt?.toISOString() ?? null };
    const hash = eventHash(prevHash, row);
    this.sql(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(row.seq, row.incident_id, row.at, row.type, row.actor, row.data, prevHash, hash, row.state_sha256, row.origin, row.recorded_at);
    // The event handed back gets its own parse of the data: the record may hold parts of `parsed`.
    const event: TimelineEvent = { seq, incidentId, at: row.at, type: row.type, actor, data: JSON.parse(data) as Record<string, unknown>, prevHash, hash };
    if (row.origin) event.origin = row.origin;
    if (row.recorded_at) event.recordedAt = row.recorded_at;
    return keep ? { event, incident, doc } : { event, incident };
  }

  /**
   * The incident as its events say it is. The row's `doc` is a cache for SQL queries and speed: it is
   * used only when the newest event's hash recomputes, the row's head is that event, and the digest
   * that event carries is the digest of the cached record; otherwise the events are folded again.
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
    if (row.seq !== row.head_seq || row.hash !== row.head_hash) return undefined;
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
    const stmt = this.sql(`SELECT incident_id, at, type, actor, data FROM events WHERE incident_id = ? ORDER BY seq`);
    for (const row of stmt.iterate(id) as IterableIterator<Pick<EventRow, 'incident_id' | 'at' | 'type' | 'actor' | 'data'>>) {
      const event = { incidentId: row.incident_id, at: row.at, type: row.type, actor: row.actor, data: parseEventData(row.data) };
      // A chain that does not start with its declaration is for --verify to report; skip, don't crash.
      if (!incident && event.type !== 'incident.declared') continue;
      incident = applyEvent(incident, event);
    }
    return incident;
  }

  /** The newest event of an incident's chain, or undefined for an unknown incident. */
  head(incidentId: string): ChainHead | undefined {
    const row = this.sql(`SELECT seq, hash, at FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT 1`).get(incidentId) as
      | { seq: number; hash: string; at: string }
      | undefined;
    return row ? { incidentId, seq: row.seq, hash: row.hash, at: row.at } : undefined;
  }

  /** A page of an incident's events after `afterSeq`: statements are not held open between pages. */
  eventsAfter(incidentId: string, afterSeq: number, limit: number): TimelineEvent[] {
    const rows = this.sql(`SELECT * FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?`).all(incidentId, afterSeq, limit) as EventRow[];
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
      this.db.prepare(`SELECT seq, at, type, actor, data, origin, recorded_at${prev ? ', prev_hash' : ''}${own ? ', hash' : ''} FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?`).raw(true);
    this.rawStatements.set(key, stmt);
    const rows = stmt.all(incidentId, afterSeq, limit) as (string | number | null)[][];
    const out: TimelineEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const origin = r[5] as string | null;
      const recordedAt = r[6] as string | null;
      const event: TimelineEvent = {
        seq: r[0] as number,
        incidentId,
        at: r[1] as string,
        type: r[2] as string,
        actor: r[3] as string,
        data: parseEventData(r[4] as string),
        prevHash: prev ? (r[7] as string) : '',
        hash: own ? (r[prev ? 8 : 7] as string) : '',
      };
      if (origin) event.origin = origin;
      if (recordedAt) event.recordedAt = recordedAt;
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
      this.db.prepare(`SELECT actor, count(*), min(at GLOB '${ISO_GLOB}') FROM events WHERE incident_id = ? GROUP BY actor LIMIT ${MAX_OUTLINE_ACTORS + 1}`).raw(true);
    this.rawStatements.set('outline', stmt);
    const rows = stmt.all(incidentId) as [string, number, number][];
    if (rows.length > MAX_OUTLINE_ACTORS) return undefined;
    const outline: EventOutline = { count: 0, actors: [], isoTimes: true };
    for (const [actor, count, iso] of rows) {
      outline.actors.push(actor);
      outline.count += count;
      if (!iso) outline.isoTimes = false;
    }
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
    const rows = this.sql(`SELECT * FROM events WHERE incident_id = ? ORDER BY seq`).all(incidentId) as EventRow[];
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
      const bad = chainVerdict(inc.id, walked, inc);
      if (bad) result.problems.push(bad);
      else intact.add(inc.id);
    }
    for (const a of anchors) result.anchors.push(await this.checkAnchor(a, intact, incidentId));
    for (const a of result.anchors) if (!a.ok) result.problems.push({ incidentId: a.incidentId ?? incidentId ?? '?', seq: a.seq, reason: a.reason });
    for (const o of this.orphans(incidentId, incidents)) result.problems.push({ incidentId: o.incident_id, seq: o.seq, reason: 'event belongs to no known incident' });
    result.ok = result.problems.length === 0;
    return result;
  }
  /**
   * Events whose incident row is gone are orphans: the chain cannot vouch for them. The first 20 by
   * incident and seq (the order they were always listed in), found from the incident ids the events
   * name (one index seek each) instead of joining every event to its incident.
   */
  private orphans(incidentId: string | undefined, known: IncidentRow[]): { seq: number; incident_id: string }[] {
    const ids = new Set(known.map((i) => i.id));
    if (incidentId && ids.has(incidentId)) return [];
    const next = this.db.prepare(`SELECT incident_id FROM events WHERE incident_id > ? ORDER BY incident_id LIMIT 1`).pluck();
    const gone: string[] = [];
    if (incidentId) gone.push(incidentId);
    else for (let id = next.get('') as string | undefined; id !== undefined; id = next.get(id) as string | undefined) if (!ids.has(id)) gone.push(id);
    if (!gone.length) return [];
    return this.sql(`SELECT seq, incident_id FROM events WHERE incident_id IN (${gone.map(() => '?').join(', ')}) ORDER BY incident_id, seq LIMIT 20`).all(...gone) as { seq: number; incident_id: string }[];
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
    // Two lookups, not min() and max() in one query: SQLite answers each from the index's ends.
    const lo = (this.sql(`SELECT min(seq) AS seq FROM events WHERE incident_id = ?`).get(incidentId) as { seq: number | null }).seq;
    const hi = (this.sql(`SELECT max(seq) AS seq FROM events WHERE incident_id = ?`).get(incidentId) as { seq: number | null }).seq;
    if (lo === null || hi === null) return joinStretches(new ChainStretch(incidentId, { start: true, fold: true }), []);
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
      for (const [seq, at, type, actor, data] of projected.iterate(incidentId, split, hi, ...types) as IterableIterator<ProjectedRow>) first.foldRow(seq, at, type, actor, data);
    }
    return joinStretches(first, [later]);
  }

  /** An anchored head is proof only while the chain still contains it: the rules in chain.ts, over these tables. */
  private checkAnchor(anchor: { seq: number; hash: string }, intact: Set<string>, incidentId?: string): Promise<AnchorResult> {
    return judgeAnchor(anchor, intact, incidentId, {
      bySeq: (seq) => this.sql(`SELECT incident_id, hash FROM events WHERE seq = ?`).get(seq) as { incident_id: string; hash: string } | undefined,
      byHash: (hash) => this.sql(`SELECT incident_id, seq FROM events WHERE hash = ?`).get(hash) as { incident_id: string; seq: number } | undefined,
      incidentExists: (id) => this.sql(`SELECT 1 FROM incidents WHERE id = ?`).get(id) !== undefined,
      laterCount: (id, seq) => (this.sql(`SELECT count(*) AS later FROM events WHERE incident_id = ? AND seq > ?`).get(id, seq) as { later: number }).later,
    });
  }
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
