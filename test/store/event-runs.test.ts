// Events found through the runs they form (migration 10): every per-incident read, on one thread and
// on two, finds exactly the incident's events (checked against a walk of the whole table), an append
// that continues the store's last run writes one page, a schema-9 store is migrated in place, and a
// store whose runs were edited by hand fails verify. Since migration 11 ir records the runs itself
// (no trigger): connections and processes writing in turns leave exactly the runs the events form.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/incident.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteDatabase } from '../../src/store/sqlite/database.js';
import { ir, irAsync, ROOT, sqlite, tempHome } from '../helpers/cli.js';

const T0 = Date.UTC(2026, 10, 25, 1, 0, 0);

/** A draft's "as of" read at one fixed moment, so two runs write the same report. */
const FIXED_NOW = { NODE_OPTIONS: `--import ${join(ROOT, 'test', 'helpers', 'fixed-clock.mjs')}`, IR_TEST_NOW: '2026-11-26T00:00:00.000Z' };

const note = (text: string): NewEvent => ({ type: 'note.added', data: { text } });

/** One read of the store file on a connection of its own (not ir's). */
function query<T>(db: string, read: (d: Database.Database) => T): T {
  const d = new Database(db, { readonly: true });
  try {
    return read(d);
  } finally {
    d.close();
  }
}

/** The incident's seqs from a walk of the whole table: what no run can hide. */
function truth(db: string, id: string): number[] {
  return query(db, (d) => d.prepare(`SELECT seq FROM events NOT INDEXED WHERE incident_id = ? ORDER BY seq`).pluck().all(id) as number[]);
}

/** Where a run begins, from the events alone. */
function runStarts(db: string): { seq: number; incident_id: string }[] {
  return query(db, (d) => d.prepare(`SELECT seq, incident_id FROM (SELECT seq, incident_id, lag(incident_id) OVER (ORDER BY seq) AS before FROM events) WHERE before IS NOT incident_id ORDER BY seq`).all() as { seq: number; incident_id: string }[]);
}

function runsTable(db: string): { seq: number; incident_id: string }[] {
  return query(db, (d) => d.prepare(`SELECT seq, incident_id FROM event_runs ORDER BY seq`).all() as { seq: number; incident_id: string }[]);
}

/** The seqs `ir timeline ID --json` prints. */
function printedSeqs(stdout: string): number[] {
  return (JSON.parse(stdout) as { events: { seq: number }[] }).events.map((e) => e.seq);
}

describe('incidents written in turns', () => {
  const { home, cleanup } = tempHome();
  const db = join(home, 'ir.db');
  const ids: string[] = [];

  beforeAll(() => {
    const store = SqliteDatabase.open(db, { synchronous: 'NORMAL' });
    for (const t of ['A', 'B', 'C']) ids.push(store.declare({ title: t, severity: 'SEV-3' }, new Date(T0), 'tester').incident.id);
    // A fixed pattern of turns: runs of 1 to 7 events, alone and in one transaction, some of them
    // continuing the incident written just before.
    let k = 0;
    for (let turn = 0; turn < 120; turn++) {
      const id = ids[(turn * 7 + (turn >> 2)) % 3];
      const n = 1 + ((turn * 5) % 7);
      if (turn % 2) store.append(id, () => Array.from({ length: n }, () => note(`n${k++}`)), new Date(T0 + turn * 1000), 'tester');
      else for (let i = 0; i < n; i++) store.append(id, () => note(`n${k++}`), new Date(T0 + turn * 1000), 'tester');
    }
    store.close();
  });
  afterAll(() => cleanup());

  it('event_runs holds exactly the seqs where the incident changes', () => {
    expect(runsTable(db)).toEqual(runStarts(db));
    expect(runsTable(db).length).toBeGreaterThan(20);
  });

  it('each incident reads its own events, in order, through the store and through ir', async () => {
    const store = SqliteDatabase.open(db);
    try {
      for (const id of ids) {
        const seqs = truth(db, id);
        expect(store.events(id).map((e) => e.seq)).toEqual(seqs);
        // Pages of 7 across run boundaries.
        const paged: number[] = [];
        for (let after = 0; ; ) {
          const page = store.streamPage(id, after, 7);
          paged.push(...page.map((e) => e.seq));
          if (page.length < 7) break;
          after = page[page.length - 1].seq;
        }
        expect(paged).toEqual(seqs);
        expect(store.head(id)?.seq).toBe(seqs.at(-1));
        const outline = store.eventOutline(id);
        expect(outline?.count).toBe(seqs.length);
      }
    } finally {
      store.close();
    }
    for (const id of ids) {
      const r = await irAsync(home, ['timeline', id, '--json']);
      expect(r.code).toBe(0);
      expect(printedSeqs(r.stdout)).toEqual(truth(db, id));
      // Two threads, chunks over others' seqs too.
      const two = await irAsync(home, ['timeline', id, '--json'], { env: { IR_PARALLEL_MIN_EVENTS: '1' } });
      expect(two.stdout).toBe(r.stdout);
    }
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
  });
});

describe('an incident of more runs than are fetched at once, each far from the next', () => {
  const { home, cleanup } = tempHome();
  const db = join(home, 'ir.db');
  let a = '';
  let b = '';
  /** More than the 256 runs spans.ts fetches at a time, each more than its 256-seq gap from the next. */
  const RUNS = 260;
  const BETWEEN = 300;

  beforeAll(() => {
    const store = SqliteDatabase.open(db, { synchronous: 'NORMAL' });
    a = store.declare({ title: 'sparse', severity: 'SEV-2' }, new Date(T0), 'tester').incident.id;
    b = store.declare({ title: 'busy', severity: 'SEV-3' }, new Date(T0), 'tester').incident.id;
    for (let r = 0; r < RUNS; r++) {
      store.append(b, () => Array.from({ length: BETWEEN }, (_, i) => note(`busy ${r}.${i}`)), new Date(T0 + r * 1000), 'other');
      store.append(a, () => note(`sparse ${r}`), new Date(T0 + r * 1000 + 500), 'tester');
    }
    store.close();
  }, 60_000);
  afterAll(() => cleanup());

  it('show, timeline (one and two threads), the postmortem (one and two threads) and verify find every event and no other', async () => {
    const seqs = truth(db, a);
    expect(seqs.length).toBe(RUNS + 1);
    expect(runsTable(db).filter((r) => r.incident_id === a).length).toBe(RUNS + 1);
    const one = await irAsync(home, ['timeline', a, '--json']);
    expect(printedSeqs(one.stdout)).toEqual(seqs);
    const two = await irAsync(home, ['timeline', a, '--json'], { env: { IR_PARALLEL_MIN_EVENTS: '1' } });
    expect(two.stdout).toBe(one.stdout);
    const text = await irAsync(home, ['timeline', a], { env: { IR_PARALLEL_MIN_EVENTS: '1' } });
    expect(text.stdout.match(/sparse \d+/g)).toHaveLength(RUNS);
    expect(text.stdout).not.toMatch(/busy/);
    const show = await irAsync(home, ['show', a]);
    expect(show.stdout.match(/sparse \d+/g)).toHaveLength(RUNS);
    for (const helperMin of ['1000000', '1']) {
      const out = join(home, `pm-${helperMin}.md`);
      const pm = await irAsync(home, ['postmortem', a, '--draft', '--out', out], { env: { ...FIXED_NOW, IR_POSTMORTEM_HELPER_MIN: helperMin } });
      expect(pm.code).toBe(0);
      const report = readFileSync(out, 'utf8');
      expect(report.match(/sparse \d+/g)?.length).toBeGreaterThanOrEqual(RUNS);
      expect(report).not.toMatch(/busy/);
    }
    expect(readFileSync(join(home, 'pm-1.md'), 'utf8')).toBe(readFileSync(join(home, 'pm-1000000.md'), 'utf8'));
    // The seq span (A's first to last) is past the two-thread verify threshold: both helpers walk spans.
    const v = await irAsync(home, ['timeline', a, '--verify']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`${RUNS + 1} events`));
  }, 120_000);
});

describe('an append that continues the store\'s last run', () => {
  it('writes one page of the events table at commit (plus the rare page split), not a page of an index too', () => {
    const { home, cleanup } = tempHome();
    try {
      const path = join(home, 'ir.db');
      const store = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
      const id = store.declare({ title: 'pages', severity: 'SEV-3' }, new Date(T0), 'tester').incident.id;
      store.append(id, () => note('warm'), new Date(T0), 'tester');
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const appends = 200;
      for (let i = 0; i < appends; i++) store.append(id, () => note(`note ${i}`), new Date(T0 + i), 'tester');
      // A WAL frame is a page and its 24-byte header after the file's 32-byte header.
      const frames = (statSync(`${path}-wal`).size - 32) / (store.db.pragma('page_size', { simple: true }) as number + 24);
      store.close();
      expect(frames).toBeGreaterThanOrEqual(appends);
      // With an (incident_id, seq) index each commit wrote two pages: about 400 frames here.
      expect(frames).toBeLessThan(appends * 1.25);
    } finally {
      cleanup();
    }
  });
});

describe('a store written before the runs (schema 9)', () => {
  it('is migrated in place: the runs are found from its events, the index goes, and it reads and verifies', () => {
    const { home, cleanup } = tempHome();
    try {
      const path = join(home, 'ir.db');
      const store = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
      const x = store.declare({ title: 'x', severity: 'SEV-3' }, new Date(T0), 'tester').incident.id;
      const y = store.declare({ title: 'y', severity: 'SEV-3' }, new Date(T0), 'tester').incident.id;
      for (let i = 0; i < 30; i++) store.append(i % 4 === 0 ? y : x, () => note(`n${i}`), new Date(T0 + i), 'tester');
      store.close();
      const expected = runsTable(path);
      // Back to schema 9's shape: the (incident_id, seq) index, no runs, no index of data that is not JSON.
      sqlite(
        path,
        `DROP TRIGGER IF EXISTS events_runs; DROP TRIGGER event_runs_append_only_update; DROP TRIGGER event_runs_append_only_delete; DROP TABLE event_runs;
         DROP INDEX events_odd_data; CREATE INDEX events_incident ON events(incident_id, seq); PRAGMA user_version = 9;`,
      );
      expect(MIGRATIONS.length).toBe(12);
      const r = ir(home, ['timeline', x, '--json']);
      expect(r.code).toBe(0);
      expect(printedSeqs(r.stdout)).toEqual(truth(path, x));
      expect(runsTable(path)).toEqual(expected);
      expect(sqlite(path, `SELECT count(*) FROM sqlite_master WHERE name = 'events_incident'`).trim()).toBe('0');
      expect(sqlite(path, 'PRAGMA user_version').trim()).toBe('12');
      // Migrations 10 to 12 in one go: the runs built, the trigger made and dropped, the index of data that is not JSON made.
      expect(sqlite(path, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_odd_data'`).trim()).toBe('1');
      expect(sqlite(path, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'events_runs'`).trim()).toBe('0');
      expect(ir(home, ['note', 'after the migration'], { env: { IR_INCIDENT: y } }).code).toBe(0);
      expect(runsTable(path)).toEqual(runStarts(path));
      expect(ir(home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      cleanup();
    }
  });
});

describe('runs edited by hand', () => {
  function twoIncidents(): { home: string; path: string; x: string; y: string; cleanup: () => void } {
    const { home, cleanup } = tempHome();
    const path = join(home, 'ir.db');
    const store = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
    const x = store.declare({ title: 'x', severity: 'SEV-3' }, new Date(T0), 'tester').incident.id;
    const y = store.declare({ title: 'y', severity: 'SEV-3' }, new Date(T0), 'tester').incident.id;
    for (let i = 0; i < 12; i++) store.append(i % 3 === 0 ? y : x, () => note(`n${i}`), new Date(T0 + i), 'tester');
    store.close();
    return { home, path, x, y, cleanup };
  }

  it('a run removed from event_runs is reported by verify at its seq, naming event_runs', () => {
    const { home, path, x, cleanup } = twoIncidents();
    try {
      const run = runsTable(path).filter((r) => r.incident_id === x)[1];
      sqlite(path, `DROP TRIGGER event_runs_append_only_delete; DELETE FROM event_runs WHERE seq = ${run.seq};`);
      const r = ir(home, ['timeline', '--verify']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(new RegExp(`${run.seq}.*event_runs does not record`));
    } finally {
      cleanup();
    }
  });

  it('events removed with their runs left behind are reported as removed', () => {
    const { home, path, y, cleanup } = twoIncidents();
    try {
      const last = runsTable(path).filter((r) => r.incident_id === y).at(-1)!;
      sqlite(path, `DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE seq = ${last.seq};`);
      const r = ir(home, ['timeline', '--verify']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/the event is gone: events were removed/);
      expect(existsSync(path)).toBe(true);
    } finally {
      cleanup();
    }
  });
});

/** Spawns runs-writer.mjs: one connection appending `count` times to the incidents named. */
function runsWriter(path: string, worker: number, count: number, ids: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'test/helpers/runs-writer.mjs'), path, String(worker), String(count), ids.join(',')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('runs recorded by ir itself (migration 11)', () => {
  it('no trigger runs at an insert into events: a store opened by ir has none on the table', () => {
    const { home, cleanup } = tempHome();
    try {
      const path = join(home, 'ir.db');
      SqliteDatabase.open(path).close();
      expect(query(path, (d) => d.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events' AND sql LIKE '%INSERT ON%'`).pluck().all())).toEqual([]);
      // The runs' own guards stay.
      expect(query(path, (d) => d.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event_runs' ORDER BY name`).pluck().all())).toEqual([
        'event_runs_append_only_delete',
        'event_runs_append_only_update',
      ]);
    } finally {
      cleanup();
    }
  });

  it('connections writing in turns (each its own account of the store) leave exactly the runs the events form', () => {
    const { home, cleanup } = tempHome();
    try {
      const path = join(home, 'ir.db');
      const a = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
      const b = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
      const ids = [a.declare({ title: 'x', severity: 'SEV-3' }, new Date(T0), 'a').incident.id];
      ids.push(b.declare({ title: 'y', severity: 'SEV-3' }, new Date(T0), 'b').incident.id);
      ids.push(a.declare({ title: 'z', severity: 'SEV-3' }, new Date(T0), 'a').incident.id);
      // Each kind of turn: a connection continuing its own run, continuing another connection's run of
      // the same incident, starting a run after its own or another's event, several events at once,
      // and a declaration in between.
      let k = 0;
      for (let turn = 0; turn < 90; turn++) {
        const conn = (turn >> 1) % 3 === 0 ? b : a;
        const id = ids[(turn * 5 + (turn >> 3)) % ids.length];
        const n = turn % 4 === 3 ? 3 : 1;
        conn.append(id, () => Array.from({ length: n }, () => note(`t${k++}`)), new Date(T0 + turn * 1000), conn === a ? 'a' : 'b');
        if (turn === 40) ids.push(b.declare({ title: 'late', severity: 'SEV-2' }, new Date(T0), 'b').incident.id);
      }
      a.close();
      b.close();
      expect(runsTable(path)).toEqual(runStarts(path));
      expect(runsTable(path).length).toBeGreaterThan(30);
      const store = SqliteDatabase.open(path);
      try {
        for (const id of ids) expect(store.events(id).map((e) => e.seq)).toEqual(truth(path, id));
      } finally {
        store.close();
      }
      expect(ir(home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('processes appending at once to three incidents (one connection each) leave every event readable and the runs exact', async () => {
    const { home, cleanup } = tempHome();
    try {
      const path = join(home, 'ir.db');
      const setup = SqliteDatabase.open(path);
      const ids = ['p', 'q', 'r'].map((t) => setup.declare({ title: t, severity: 'SEV-3' }, new Date(T0), 'tester').incident.id);
      setup.close();
      const WRITERS = 4;
      const COUNT = 150;
      // Processes keeping one connection each, and `ir note` processes (a fresh store each) among them.
      const writers = Array.from({ length: WRITERS }, (_, w) => runsWriter(path, w, COUNT, ids));
      const notes = Array.from({ length: 6 }, (_, i) => irAsync(home, ['note', `by ir ${i}`, '--incident', ids[i % 3]]));
      for (const r of await Promise.all(writers)) expect(r.code, r.stderr).toBe(0);
      for (const r of await Promise.all(notes)) expect(r.code, r.stderr).toBe(0);
      const all = query(path, (d) => d.prepare(`SELECT count(*) FROM events WHERE type = 'note.added'`).pluck().get() as number);
      expect(all).toBeGreaterThan(WRITERS * COUNT);
      expect(runsTable(path)).toEqual(runStarts(path));
      let read = 0;
      for (const id of ids) {
        const r = await irAsync(home, ['timeline', id, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const seqs = printedSeqs(r.stdout);
        expect(seqs).toEqual(truth(path, id));
        read += seqs.length;
      }
      // Every event of the store, through its incident's timeline: the three declarations and every note.
      expect(read).toBe(all + 3);
      const v = ir(home, ['timeline', '--verify']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
    } finally {
      cleanup();
    }
  }, 120_000);
});
