// The outbox: what this machine wrote while the team store was unreachable, kept in a local SQLite file
// until it is delivered. Entries are hash-chained like the timeline, so an outbox changed on disk is
// refused rather than delivered; a delivered entry is kept and marked with where it landed.

import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../canonical.js';
import { GENESIS_HASH } from '../chain.js';
import { OperationError } from '../../errors.js';

export type OutboxOp =
  | 'declare'
  | 'append'
  | 'run.create'
  | 'run.update'
  | 'evidence.create'
  | 'evidence.opened'
  | 'evidence.files'
  | 'evidence.finish';

export interface OutboxEntry {
  n: number;
  /** The delivery key: the team store records it with the write, so a retried delivery is recognised. */
  key: string;
  op: OutboxOp;
  body: Record<string, unknown>;
  writtenAt: string;
  deliveredAt: string | null;
  outcome: Record<string, unknown> | null;
}

interface EntryRow {
  n: number;
  key: string;
  op: string;
  body: string;
  written_at: string;
  prev_hash: string;
  hash: string;
  delivered_at: string | null;
  outcome: string | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS entries (
    n            INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    op           TEXT NOT NULL,
    body         TEXT NOT NULL,
    written_at   TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    delivered_at TEXT,
    outcome      TEXT
  );
  CREATE TABLE IF NOT EXISTS ids (
    provisional TEXT PRIMARY KEY,
    team        TEXT NOT NULL,
    mapped_at   TEXT NOT NULL,
    shown       INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS counters (scope TEXT PRIMARY KEY, n INTEGER NOT NULL);
`;

function entryHash(prev: string, e: { n: number; key: string; op: string; body: string; written_at: string }): string {
  return createHash('sha256').update(prev).update(canonicalJson({ n: e.n, key: e.key, op: e.op, body: e.body, written_at: e.written_at })).digest('hex');
}

/** The file that says "entries may be waiting", so a command on a healthy network opens no SQLite. */
const WAITING_MARK = 'outbox.waiting';

export class Outbox {
  private constructor(
    private readonly db: Database.Database,
    readonly dir: string,
  ) {}

  /** Whether this directory may hold undelivered entries: one stat, no database opened. */
  static mayHaveWaiting(dir: string): boolean {
    return existsSync(join(dir, WAITING_MARK));
  }

  static exists(dir: string): boolean {
    return existsSync(join(dir, 'outbox.db'));
  }

  static async open(dir: string): Promise<Outbox> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, 'outbox.db');
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    const { openSqlite } = await import('../sqlite/store.js');
    const db = openSqlite(path, 30_000);
    db.pragma('journal_mode = WAL');
    // What was recorded offline exists nowhere else until it is delivered: sync every commit.
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    return new Outbox(db, dir);
  }

  close(): void {
    this.db.close();
  }

  /** Adds an entry at the end of the chain; returns it with its key. */
  add(op: OutboxOp, body: Record<string, unknown>, writtenAt: Date, key?: string): OutboxEntry {
    return this.db
      .transaction(() => {
        const last = this.db.prepare(`SELECT n, hash FROM entries ORDER BY n DESC LIMIT 1`).get() as { n: number; hash: string } | undefined;
        const row = {
          n: (last?.n ?? 0) + 1,
          key: key ?? `outbox:${randomBytes(12).toString('hex')}`,
          op,
          body: canonicalJson(body),
          written_at: writtenAt.toISOString(),
        };
        const prev = last?.hash ?? GENESIS_HASH;
        this.db
          .prepare(`INSERT INTO entries (n, key, op, body, written_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`)
          .run(row.n, row.key, row.op, row.body, row.written_at, prev, entryHash(prev, row));
        // Marked inside the write lock, so a delivery emptying the queue cannot unmark this entry.
        writeFileSync(join(this.dir, WAITING_MARK), '', { mode: 0o600 });
        return { n: row.n, key: row.key, op, body, writtenAt: row.written_at, deliveredAt: null, outcome: null };
      })
      .immediate();
  }

  /** Every entry, oldest first, after checking the chain; a changed outbox is refused, naming the entry. */
  entries(): OutboxEntry[] {
    const rows = this.db.prepare(`SELECT * FROM entries ORDER BY n`).all() as EntryRow[];
    let prev = GENESIS_HASH;
    let expected = 1;
    const out: OutboxEntry[] = [];
    for (const r of rows) {
      const where = `${join(this.dir, 'outbox.db')} entry ${r.n}`;
      if (r.n !== expected) throw new OperationError(`the outbox was changed: ${where} follows entry ${expected - 1} (an entry was removed); nothing was delivered`);
      if (r.prev_hash !== prev || entryHash(prev, r) !== r.hash) throw new OperationError(`the outbox was changed: ${where} does not match its hash; nothing was delivered`);
      prev = r.hash;
      expected++;
      out.push({
        n: r.n,
        key: r.key,
        op: r.op as OutboxOp,
        body: JSON.parse(r.body) as Record<string, unknown>,
        writtenAt: r.written_at,
        deliveredAt: r.delivered_at,
        outcome: r.outcome ? (JSON.parse(r.outcome) as Record<string, unknown>) : null,
      });
    }
    return out;
  }

  waiting(): OutboxEntry[] {
    return this.entries().filter((e) => e.deliveredAt === null);
  }

  waitingCount(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM entries WHERE delivered_at IS NULL`).get() as { n: number }).n;
  }

  markDelivered(n: number, outcome: Record<string, unknown>, at: Date): void {
    this.db.prepare(`UPDATE entries SET delivered_at = ?, outcome = ? WHERE n = ?`).run(at.toISOString(), JSON.stringify(outcome), n);
  }

  /** Removes the waiting mark when nothing waits (under the write lock, against a concurrent add). */
  settle(): number {
    return this.db
      .transaction(() => {
        const left = this.waitingCount();
        if (left === 0) rmSync(join(this.dir, WAITING_MARK), { force: true });
        return left;
      })
      .immediate();
  }

  /** The next number for a provisional id of this kind (INC-LOCAL-host-N, …). */
  nextLocal(scope: string): number {
    return (this.db.prepare(`INSERT INTO counters (scope, n) VALUES (?, 1) ON CONFLICT (scope) DO UPDATE SET n = n + 1 RETURNING n`).get(scope) as { n: number }).n;
  }

  mapId(provisional: string, team: string, at: Date): void {
    this.db.prepare(`INSERT INTO ids (provisional, team, mapped_at) VALUES (?, ?, ?) ON CONFLICT (provisional) DO NOTHING`).run(provisional, team, at.toISOString());
  }

  /** provisional → team id for every id mapped so far. */
  idMap(): Map<string, string> {
    const rows = this.db.prepare(`SELECT provisional, team FROM ids`).all() as { provisional: string; team: string }[];
    return new Map(rows.map((r) => [r.provisional, r.team]));
  }

  /** Mappings not yet shown to the responder, marked shown (ir prints each mapping once). */
  unshownMappings(): { provisional: string; team: string }[] {
    return this.db
      .transaction(() => {
        const rows = this.db.prepare(`SELECT provisional, team FROM ids WHERE shown = 0 ORDER BY mapped_at`).all() as { provisional: string; team: string }[];
        this.db.prepare(`UPDATE ids SET shown = 1 WHERE shown = 0`).run();
        return rows;
      })
      .immediate();
  }
}
