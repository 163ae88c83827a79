// `ir timeline --verify` on incidents long enough to be checked on two threads: the verdict (first
// broken event, reason, event count, the record folded from events on both sides of the cut) is the
// one a single walk gives, wherever the damage lies.

import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/incident.js';
import { eventHash, type EventRow } from '../../src/store/chain.js';
import { PARALLEL_VERIFY_MIN, SqliteDatabase, verifyCut } from '../../src/store/sqlite/database.js';
import { ir, json, ROOT, tempHome } from '../helpers/cli.js';

const T0 = Date.UTC(2026, 10, 25, 1, 0, 0);
const LENGTH = PARALLEL_VERIFY_MIN + 4000;

interface Verdict {
  ok: boolean;
  incidents: number;
  events: number;
  problems: { incident: string; seq: number | null; reason: string }[];
}

/**
 * An incident of LENGTH events written by ir's own store code: notes and step output, and, on both
 * sides of the cut, the events its record is made of; `busy` puts a comms.sent in every other event
 * of the second half (more than the helper thread posts back). A short second incident interleaves.
 */
function seed(dir: string, busy: boolean): { db: string; id: string; other: string } {
  const path = join(dir, 'ir.db');
  const store = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
  const { incident } = store.declare({ title: 'long night', severity: 'SEV-3' }, new Date(T0), 'alice');
  const other = store.declare({ title: 'meanwhile', severity: 'SEV-4' }, new Date(T0), 'carol').incident.id;
  const special: Record<number, NewEvent> = {
    500: { type: 'incident.acknowledged', data: {} },
    3000: { type: 'action.added', data: { n: 1, text: 'alert on replica lag' } },
    15000: { type: 'incident.severity_changed', data: { from: 'SEV-3', to: 'SEV-1' } },
    17000: { type: 'incident.role_assigned', data: { role: 'scribe', person: 'dave' } },
    19000: { type: 'action.added', data: { n: 2, text: 'runbook for failover' } },
    21000: { type: 'action.done', data: { n: 1 } },
    23000: { type: 'incident.state_changed', data: { from: 'investigating', to: 'mitigating' } },
  };
  const event = (n: number): NewEvent =>
    special[n] ??
    (busy && n > LENGTH / 2 && n % 2 === 0
      ? { type: 'comms.sent', data: { channel: 'status', n } }
      : n % 10 === 0
        ? { type: 'runbook.step', data: { run_id: 'RUN-1', step: `s${n}`, outcome: 'ok', output: `line "${n}"\n\ttabbed ✓` } }
        : { type: 'note.added', data: { text: `observation ${n}: p99 ${n % 500}ms` } });
  for (let n = 1; n < LENGTH; n += 2000) {
    const batch = Array.from({ length: Math.min(2000, LENGTH - n) }, (_, i) => event(n + i));
    store.append(incident.id, () => batch, new Date(T0 + n * 1000), 'bob');
    store.append(other, () => ({ type: 'note.added', data: { text: `elsewhere ${n}` } }), new Date(T0 + n * 1000), 'carol');
  }
  store.close();
  return { db: path, id: incident.id, other };
}

/** The incident's event seqs, in order. */
function seqs(db: string, id: string): number[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare(`SELECT seq FROM events WHERE incident_id = ? ORDER BY seq`).pluck().all(id) as number[];
  } finally {
    conn.close();
  }
}

/** Edits the database as someone with the file would: triggers dropped, then `fn` on a raw connection. */
function tamper(db: string, fn: (conn: Database.Database) => void): void {
  const conn = new Database(db);
  try {
    conn.exec(`DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS events_append_only_delete;`);
    // Outside the transaction: SQLite ignores this pragma inside one.
    conn.pragma('foreign_keys = OFF');
    conn.transaction(() => fn(conn))();
  } finally {
    conn.close();
  }
}

/** Rewrites every hash of the incident from `seq` on, and its head, so only what changed at `seq` is wrong. */
function rechainFrom(conn: Database.Database, id: string, seq: number): void {
  const rows = conn.prepare(`SELECT * FROM events WHERE incident_id = ? AND seq >= ? ORDER BY seq`).all(id, seq) as EventRow[];
  let prev = (conn.prepare(`SELECT prev_hash FROM events WHERE seq = ?`).get(seq) as { prev_hash: string }).prev_hash;
  const update = conn.prepare(`UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?`);
  for (const r of rows) {
    const hash = eventHash(prev, r);
    update.run(prev, hash, r.seq);
    prev = hash;
  }
  conn.prepare(`UPDATE incidents SET head_hash = ? WHERE id = ?`).run(prev, id);
}

const MODIFIED = 'contents do not match its hash (the event was modified)';
const UNLINKED = 'prev_hash does not link to the event before it (an event was removed or reordered)';

it('the built ir ships the helper thread beside the chunk that starts it (else verify quietly walks on one thread)', () => {
  const bin = join(ROOT, 'dist', 'bin');
  expect(existsSync(join(bin, 'verify-worker.js'))).toBe(true);
  const starter = readdirSync(bin).filter((f) => /\.c?js$/.test(f) && readFileSync(join(bin, f), 'utf8').includes('"./verify-worker.js"'));
  expect(starter.length).toBeGreaterThan(0);
});

describe.each([
  ['few events of the record in the second half', false],
  ['thousands of events of the record in the second half', true],
])('a chain long enough for two threads (%s)', (_name, busy) => {
  let dir: string;
  let seeded: ReturnType<typeof seed>;
  let all: number[];
  let cut: number;
  const cleanups: (() => void)[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ir-verify-long-'));
    seeded = seed(dir, busy);
    all = seqs(seeded.db, seeded.id);
    cut = verifyCut(all[0], all[all.length - 1]);
    expect(all.length).toBe(LENGTH);
    expect(all.length).toBeGreaterThanOrEqual(PARALLEL_VERIFY_MIN);
  }, 120_000);
  afterAll(() => {
    for (const c of cleanups) c();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A home holding a copy of the seeded database, after `fn` had its way with it. */
  function copy(fn?: (conn: Database.Database) => void): { home: string; db: string } {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const db = join(home, 'ir.db');
    copyFileSync(seeded.db, db);
    if (fn) tamper(db, fn);
    return { home, db };
  }

  const verify = (home: string, ...args: string[]) => {
    const r = ir(home, ['timeline', ...args, '--verify', '--json']);
    return { code: r.code, doc: json<Verdict>(r) };
  };

  it('verifies intact: every event counted, the record folded from events on both sides of the cut', () => {
    const { home } = copy();
    expect(verify(home, seeded.id)).toEqual({ code: 0, doc: { ok: true, incidents: 1, events: LENGTH, anchors: [], problems: [] } });
    expect(verify(home).doc).toMatchObject({ ok: true, incidents: 2, events: LENGTH + Math.ceil(LENGTH / 2000) + 1 });
    const human = ir(home, ['timeline', seeded.id, '--verify']);
    expect(human.stdout).toContain(`timeline intact: ${LENGTH} events in 1 incident`);
  });

  it('an event of the second half missing from the record (the row edited to match) is still caught', () => {
    // The row says what the events before the late severity change said: only folding the second half tells.
    const { home } = copy((conn) => conn.prepare(`UPDATE incidents SET severity = 'SEV-3', doc = json_set(doc, '$.severity', 'SEV-3') WHERE id = ?`).run(seeded.id));
    const { code, doc } = verify(home, seeded.id);
    expect(code).toBe(1);
    expect(doc.problems).toEqual([{ incident: seeded.id, seq: null, reason: 'the incident record was changed outside its events: severity is "SEV-3" in the record but "SEV-1" by its events' }]);
  });

  it('a modified event deep in the second half is the first problem; a later one is not reported', () => {
    const at = all[Math.floor(LENGTH * 0.75)];
    const later = all[Math.floor(LENGTH * 0.9)];
    expect(at).toBeGreaterThan(cut);
    const { home } = copy((conn) => {
      conn.prepare(`UPDATE events SET actor = 'mallory' WHERE seq IN (?, ?)`).run(at, later);
      conn.prepare(`UPDATE events SET data = '{}' WHERE seq = ?`).run(later + 2);
    });
    const { code, doc } = verify(home, seeded.id);
    expect(code).toBe(1);
    expect(doc).toMatchObject({ ok: false, events: LENGTH, problems: [{ incident: seeded.id, seq: at, reason: MODIFIED }] });
  });

  it('damage in both halves: the one in the first half is reported', () => {
    const early = all[Math.floor(LENGTH * 0.3)];
    const { home } = copy((conn) => conn.prepare(`UPDATE events SET actor = 'mallory' WHERE seq IN (?, ?)`).run(early, all[Math.floor(LENGTH * 0.6)]));
    expect(verify(home, seeded.id).doc.problems).toEqual([{ incident: seeded.id, seq: early, reason: MODIFIED }]);
  });

  it('at the cut: an event removed just before it breaks the link of the first event after it', () => {
    const before = all[all.indexOf(all.find((s) => s >= cut)!) - 1];
    const first = all.find((s) => s >= cut)!;
    const { home } = copy((conn) => conn.prepare(`DELETE FROM events WHERE seq = ?`).run(before));
    expect(verify(home, seeded.id).doc.problems).toEqual([{ incident: seeded.id, seq: first, reason: UNLINKED }]);
    // Removed and the next one modified too: at one event the link is checked before the hash.
    const { home: h2 } = copy((conn) => {
      conn.prepare(`DELETE FROM events WHERE seq = ?`).run(before);
      conn.prepare(`UPDATE events SET actor = 'mallory' WHERE seq = ?`).run(first);
    });
    expect(verify(h2, seeded.id).doc.problems).toEqual([{ incident: seeded.id, seq: first, reason: UNLINKED }]);
    // The first event after the cut removed: the one after it no longer links.
    const { home: h3 } = copy((conn) => conn.prepare(`DELETE FROM events WHERE seq = ?`).run(first));
    expect(verify(h3, seeded.id).doc.problems).toEqual([{ incident: seeded.id, seq: all[all.indexOf(first) + 1], reason: UNLINKED }]);
  });

  it('data that is not JSON in the second half, with every hash after it rewritten, is reported as such', () => {
    const at = all[Math.floor(LENGTH * 0.8)];
    const { home } = copy((conn) => {
      conn.prepare(`UPDATE events SET data = '{"text": observation' WHERE seq = ?`).run(at);
      rechainFrom(conn, seeded.id, at);
    });
    expect(verify(home, seeded.id).doc.problems).toEqual([{ incident: seeded.id, seq: at, reason: 'data is not valid JSON' }]);
  });

  it('an incident row deleted leaves its events orphaned: the first 20 of them are reported, the other incident still verifies', () => {
    const { home } = copy((conn) => conn.prepare(`DELETE FROM incidents WHERE id = ?`).run(seeded.id));
    const orphan = (seq: number) => ({ incident: seeded.id, seq, reason: 'event belongs to no known incident' });
    expect(verify(home)).toMatchObject({ code: 1, doc: { incidents: 1, problems: all.slice(0, 20).map(orphan) } });
    expect(verify(home, seeded.other)).toMatchObject({ code: 0, doc: { ok: true, problems: [] } });
  });

  it('the last events removed: where the chain ends is reported against the incident head', () => {
    const { home } = copy((conn) => conn.prepare(`DELETE FROM events WHERE incident_id = ? AND seq > ?`).run(seeded.id, all[LENGTH - 3]));
    expect(verify(home, seeded.id).doc.problems).toEqual([
      { incident: seeded.id, seq: all[LENGTH - 3], reason: `the chain ends at event ${all[LENGTH - 3]} but the incident's head is event ${all[LENGTH - 1]} (events were removed from the end)` },
    ]);
  });
});
