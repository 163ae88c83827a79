// The incident store: one SQLite file, WAL, an append-only event log with a per-incident sha256 chain.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyEvent, type Incident, type NewEvent, type TimelineEvent } from '../core/incident.js';
import { canonicalJson } from './canonical.js';
import { MIGRATIONS } from './migrations.js';

export const GENESIS_HASH = '0'.repeat(64);

/** Long enough to ride out any writer holding the lock; writers hold it for milliseconds. */
const BUSY_TIMEOUT_MS = 30_000;

interface EventRow {
  seq: number;
  incident_id: string;
  at: string;
  type: string;
  actor: string;
  data: string;
  prev_hash: string;
  hash: string;
}

interface IncidentRow {
  id: string;
  doc: string;
  head_seq: number;
  head_hash: string;
}

/** The hash of one event row: sha256 over the previous hash and the row's canonical JSON. */
export function eventHash(prevHash: string, row: Omit<EventRow, 'prev_hash' | 'hash'>): string {
  const body = canonicalJson({
    seq: row.seq,
    incident_id: row.incident_id,
    at: row.at,
    type: row.type,
    actor: row.actor,
    data: row.data,
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

export interface VerifyProblem {
  incidentId: string;
  seq?: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  incidents: number;
  events: number;
  problems: VerifyProblem[];
}

export interface DeclareInput {
  title: string;
  severity: string;
  service?: string;
  impact?: string;
  commander?: string;
  detected_at?: string;
}

export class Store {
  private constructor(readonly db: Database.Database, readonly path: string) {}

  static open(path: string): Store {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const store = new Store(db, path);
    store.migrate();
    return store;
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
        for (let v = current(); v < MIGRATIONS.length; v++) {
          this.db.exec(MIGRATIONS[v]);
          this.db.pragma(`user_version = ${v + 1}`);
        }
      })
      .immediate();
  }

  /** Runs fn in a write transaction taken up front, so concurrent writers queue instead of failing. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Opens a new incident with its first event; the id is allocated inside the same transaction. */
  declare(input: DeclareInput, at: Date, actor: string): { incident: Incident; event: TimelineEvent } {
    return this.write(() => {
      const day = at.toISOString().slice(0, 10).replaceAll('-', '');
      const prefix = `INC-${day}-`;
      const last = this.db
        .prepare(`SELECT id FROM incidents WHERE id LIKE ? ORDER BY length(id) DESC, id DESC LIMIT 1`)
        .get(`${prefix}%`) as { id: string } | undefined;
      const n = last ? Number(last.id.slice(prefix.length)) + 1 : 1;
      const id = `${prefix}${String(n).padStart(3, '0')}`;
      const data: Record<string, unknown> = { ...input };
      for (const k of Object.keys(data)) if (data[k] === undefined || data[k] === '') delete data[k];
      // The row comes first (events reference it) and takes its head once the event exists.
      this.db
        .prepare(
          `INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash)
           VALUES (?, 'investigating', ?, ?, NULL, '{}', 0, ?)`,
        )
        .run(id, String(input.severity), at.toISOString(), GENESIS_HASH);
      const event = this.insertEvent(id, GENESIS_HASH, { type: 'incident.declared', data }, at, actor);
      const incident = applyEvent(undefined, event);
      this.db
        .prepare(`UPDATE incidents SET state = ?, severity = ?, doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`)
        .run(incident.state, incident.severity, JSON.stringify(incident), event.seq, event.hash, id);
      return { incident, event };
    });
  }

  /**
   * Appends events to an incident atomically. `decide` sees the incident as it stands inside the
   * write lock, so a check such as "is this state change allowed" cannot race another writer.
   */
  append(
    incidentId: string,
    decide: (incident: Incident) => NewEvent | NewEvent[],
    at: Date,
    actor: string,
  ): { incident: Incident; events: TimelineEvent[] } {
    return this.write(() => {
      const row = this.db.prepare(`SELECT id, doc, head_seq, head_hash FROM incidents WHERE id = ?`).get(incidentId) as
        | IncidentRow
        | undefined;
      if (!row) throw new Error(`no incident ${incidentId}`);
      let incident = JSON.parse(row.doc) as Incident;
      const wanted = decide(incident);
      const list = Array.isArray(wanted) ? wanted : [wanted];
      let head = row.head_hash;
      const events: TimelineEvent[] = [];
      for (const e of list) {
        const event = this.insertEvent(incidentId, head, e, at, actor);
        incident = applyEvent(incident, event);
        head = event.hash;
        events.push(event);
      }
      if (events.length) {
        const last = events[events.length - 1];
        this.db
          .prepare(`UPDATE incidents SET state = ?, severity = ?, resolved_at = ?, doc = ?, head_seq = ?, head_hash = ? WHERE id = ?`)
          .run(incident.state, incident.severity, incident.resolvedAt ?? null, JSON.stringify(incident), last.seq, last.hash, incidentId);
      }
      return { incident, events };
    });
  }

  private insertEvent(incidentId: string, prevHash: string, e: NewEvent, at: Date, actor: string): TimelineEvent {
    const { next } = this.db.prepare(`SELECT coalesce(max(seq), 0) + 1 AS next FROM events`).get() as { next: number };
    const row = {
      seq: next,
      incident_id: incidentId,
      at: at.toISOString(),
      type: e.type,
      actor,
      data: canonicalJson(e.data),
    };
    const hash = eventHash(prevHash, row);
    this.db
      .prepare(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(row.seq, row.incident_id, row.at, row.type, row.actor, row.data, prevHash, hash);
    return toEvent({ ...row, prev_hash: prevHash, hash });
  }

  getIncident(id: string): Incident | undefined {
    const row = this.db.prepare(`SELECT doc FROM incidents WHERE id = ?`).get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Incident) : undefined;
  }

  /** Open incidents (or all with `all`), newest first. */
  listIncidents(opts: { all?: boolean } = {}): Incident[] {
    const sql = opts.all
      ? `SELECT doc FROM incidents ORDER BY declared_at DESC, id DESC`
      : `SELECT doc FROM incidents WHERE state != 'resolved' ORDER BY declared_at DESC, id DESC`;
    return (this.db.prepare(sql).all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as Incident);
  }

  events(incidentId: string): TimelineEvent[] {
    const rows = this.db.prepare(`SELECT * FROM events WHERE incident_id = ? ORDER BY seq`).all(incidentId) as EventRow[];
    return rows.map(toEvent);
  }

  /** Walks each incident's chain: every prev_hash links, every hash recomputes, the head matches. */
  verify(incidentId?: string): VerifyResult {
    const incidents = (
      incidentId
        ? this.db.prepare(`SELECT id, doc, head_seq, head_hash FROM incidents WHERE id = ?`).all(incidentId)
        : this.db.prepare(`SELECT id, doc, head_seq, head_hash FROM incidents ORDER BY id`).all()
    ) as IncidentRow[];
    const result: VerifyResult = { ok: true, incidents: incidents.length, events: 0, problems: [] };
    const stmt = this.db.prepare(`SELECT * FROM events WHERE incident_id = ? ORDER BY seq`);
    for (const inc of incidents) {
      let prev = GENESIS_HASH;
      let lastSeq: number | undefined;
      let bad: VerifyProblem | undefined;
      for (const row of stmt.iterate(inc.id) as IterableIterator<EventRow>) {
        result.events++;
        if (bad) continue;
        if (row.prev_hash !== prev) {
          bad = { incidentId: inc.id, seq: row.seq, reason: 'prev_hash does not link to the event before it (an event was removed or reordered)' };
        } else if (eventHash(prev, row) !== row.hash) {
          bad = { incidentId: inc.id, seq: row.seq, reason: 'contents do not match its hash (the event was modified)' };
        } else {
          try {
            JSON.parse(row.data);
          } catch {
            bad = { incidentId: inc.id, seq: row.seq, reason: 'data is not valid JSON' };
          }
        }
        prev = row.hash;
        lastSeq = row.seq;
      }
      if (!bad && (lastSeq !== inc.head_seq || prev !== inc.head_hash)) {
        bad = { incidentId: inc.id, seq: lastSeq, reason: `the chain ends at event ${lastSeq ?? 'none'} but the incident's head is event ${inc.head_seq} (events were removed from the end)` };
      }
      if (bad) result.problems.push(bad);
    }
    // Events whose incident row is gone are orphans: the chain cannot vouch for them.
    const orphans = this.db
      .prepare(`SELECT e.seq, e.incident_id FROM events e LEFT JOIN incidents i ON i.id = e.incident_id WHERE i.id IS NULL ${incidentId ? 'AND e.incident_id = ?' : ''} LIMIT 20`)
      .all(...(incidentId ? [incidentId] : [])) as { seq: number; incident_id: string }[];
    for (const o of orphans) result.problems.push({ incidentId: o.incident_id, seq: o.seq, reason: 'event belongs to no known incident' });
    result.ok = result.problems.length === 0;
    return result;
  }
}

function toEvent(row: EventRow): TimelineEvent {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(row.data) as Record<string, unknown>;
  } catch {
    data = { unreadable: row.data };
  }
  return { seq: row.seq, incidentId: row.incident_id, at: row.at, type: row.type, actor: row.actor, data, prevHash: row.prev_hash, hash: row.hash };
}
