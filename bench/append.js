// Append benchmark: in-process `Store.append` of one note at a time (one transaction each, as
// `ir note` does), with synchronous=FULL (what ir uses: a committed event survives power loss) and
// with NORMAL (WAL's default: may lose the last commits on power loss), in one run. Reported as
// events per second and the cost of FULL as a ratio. Also the chain's growth: appends per second
// at the start of an incident and after it has 5,000 events (the record is folded from its events).
// And the same appends on PostgreSQL on loopback (fsync on), or the reason it was skipped.
// Beside them, where the layout of events sets the floor: an append that continues the store's last
// run of one incident writes one page of the events table at commit (event_runs, migration 10); the
// "index layout" rows run the same statements, and ir's own append, on a store given back the
// (incident_id, seq) index it had before, which made every commit write a page of that index too.
// IR_BENCH_ROOT names the checkout whose store is measured (default: this one).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchPostgres } from './postgres.js';

const root = resolve(process.env.IR_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'));

/** This process's CPU time so far (user + system), in ms. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export async function append({ count = Number(process.env.BENCH_APPENDS ?? 1000) } = {}) {
  // Through the Store interface (async), as commands use it.
  const { SqliteStore } = await import(join(root, 'dist', 'store', 'sqlite', 'store.js'));
  const measure = async (synchronous, prefill = 0, { indexLayout = false } = {}) => {
    const home = mkdtempSync(join(tmpdir(), 'ir-bench-append-'));
    const store = SqliteStore.open(join(home, 'ir.db'), { synchronous });
    const { incident } = await store.declare({ title: 'append bench', severity: 'SEV-3' }, new Date(), 'bench');
    // For comparison: ir's own append with every event writing a page of an (incident_id, seq) index
    // as well, as it did before the runs (the runs' trigger dropped: the index replaces them).
    if (indexLayout) indexLayoutOf(store.db.db);
    for (let done = 0; done < prefill; done += 500) {
      await store.append(incident.id, () => Array.from({ length: Math.min(500, prefill - done) }, (_, i) => ({ type: 'note.added', data: { text: `prefill ${done + i}` } })), new Date(), 'bench');
    }
    const cpu = cpuMs();
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await store.append(incident.id, () => ({ type: 'note.added', data: { text: `note ${i}` } }), new Date(), 'bench');
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpuUs = ((cpuMs() - cpu) * 1000) / count;
    await store.close();
    rmSync(home, { recursive: true, force: true });
    return { ms, perSecond: (count * 1000) / ms, cpuUs };
  };
  await measure('FULL'); // warm-up
  const floor = await rawFloor(count);
  // The NORMAL rows are the target's: five stores each, taken in turns, and the median store (by
  // events per second) reported with the spread, so one store that met a busy moment does not decide.
  const normals = [];
  const indexeds = [];
  for (let i = 0; i < 5; i++) {
    normals.push(await measure('NORMAL'));
    indexeds.push(await measure('NORMAL', 0, { indexLayout: true }));
  }
  const normal = medianRun(normals);
  const normalIndexed = medianRun(indexeds);
  const full = await measure('FULL');
  const long = await measure('FULL', 5000);
  const postgres = await measurePostgres(count);
  // CPU time (user + system) per event beside the wall time: on a shared machine it moves less.
  const row = (name, r, extra = {}) => {
    const out = { name, median_ms: Number((r.ms / count).toFixed(3)), detail: `${Math.round(r.perSecond)} events/s`, ...extra };
    if (r.spread) out.detail += ` (median of ${r.spread.length} stores: ${r.spread.map((x) => Math.round(x)).join(', ')})`;
    if (r.cpuUs !== undefined) out.detail += `; CPU ${r.cpuUs.toFixed(1)} µs/event`;
    return out;
  };
  return {
    benchmark: 'append (in-process, one event per transaction)',
    rounds: count,
    rows: [
      row('SQLite alone: 1-row insert', floor.single, { detail: `${Math.round(floor.single.perSecond)} commits/s: better-sqlite3, one 3-column row per transaction (the issue's "raw" figure)` }),
      row('SQLite alone: ir\'s statements', floor.same, { detail: `${Math.round(floor.same.perSecond)} commits/s: what an append of a note runs (PRAGMA data_version, the event insert), without ir` }),
      row('SQLite alone: index layout', floor.indexed, { detail: `${Math.round(floor.indexed.perSecond)} commits/s: the same statements on the layout before the runs, an (incident_id, seq) index written at every commit` }),
      row('append, synchronous=NORMAL', normal, {
        detail: `${Math.round(normal.perSecond)} events/s (target 25000: ${normal.perSecond >= 25_000 ? 'met' : 'MISSED'}), ${(normal.perSecond / floor.same.perSecond).toFixed(2)}x SQLite alone with the same statements, ${(normal.perSecond / floor.single.perSecond).toFixed(2)}x a 1-row insert`,
        met: normal.perSecond >= 25_000,
      }),
      row('append, index layout', normalIndexed, {
        detail: `${Math.round(normalIndexed.perSecond)} events/s: NORMAL on the layout before the runs (two pages a commit), ${(normalIndexed.perSecond / floor.indexed.perSecond).toFixed(2)}x SQLite alone on it`,
      }),
      row('append, synchronous=FULL (used)', full, { detail: `${Math.round(full.perSecond)} events/s, ${(full.ms / normal.ms).toFixed(2)}x the time of NORMAL` }),
      row('append at 5,000 events (FULL)', long, { detail: `${Math.round(long.perSecond)} events/s` }),
      postgres.skipped
        ? { name: 'append, PostgreSQL (loopback)', median_ms: null, detail: `skipped: ${postgres.skipped}` }
        : row('append, PostgreSQL (loopback)', postgres, { detail: `${Math.round(postgres.perSecond)} events/s, ${(postgres.ms / full.ms).toFixed(2)}x the time of SQLite FULL` }),
    ],
  };
}

/** The run with the median events per second, carrying every run's figure as its spread. */
function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  return { ...sorted[(sorted.length - 1) >> 1], spread: sorted.map((r) => r.perSecond) };
}

/**
 * What SQLite itself costs here, measured in the same run (synchronous=NORMAL, WAL, one transaction
 * per commit, statements prepared once): a bare 1-row insert into a 3-column table, and the statements
 * an append of a note runs while its connection was the last to write (PRAGMA data_version, which
 * tells it nobody else did, then the event insert; the incident row is left as it was) on the
 * connection the measured checkout opens, with fixed values and no hashing or canonical JSON.
 */
async function rawFloor(count) {
  const require = createRequire(join(root, 'package.json'));
  const Database = require('better-sqlite3');
  const { SqliteStore } = await import(join(root, 'dist', 'store', 'sqlite', 'store.js'));
  const timeIt = (db, fn) => {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const tx = db.transaction((i) => fn(i));
    for (let i = 1; i <= 200; i++) tx.immediate(i);
    const cpu = cpuMs();
    const start = process.hrtime.bigint();
    for (let i = 201; i <= count + 200; i++) tx.immediate(i);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpuUs = ((cpuMs() - cpu) * 1000) / count;
    db.close();
    return { ms, perSecond: (count * 1000) / ms, cpuUs };
  };
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-raw-'));
  try {
    const bare = new Database(join(home, 'bare.db'));
    bare.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, a TEXT, b TEXT)');
    const put = bare.prepare('INSERT INTO t (seq, a, b) VALUES (?, ?, ?)');
    const single = timeIt(bare, (i) => put.run(i, `note ${i}`, 'f'.repeat(64)));

    // ir's statements on a store of the measured checkout, on the connection it opens (so with its
    // settings: cache, checkpoints, foreign keys, the runs' trigger): as it is, and on the layout
    // before the runs.
    const statements = async (name, indexLayout) => {
      const store = SqliteStore.open(join(home, name), { synchronous: 'NORMAL' });
      const { incident } = await store.declare({ title: 'floor', severity: 'SEV-3' }, new Date(), 'bench');
      const db = store.db.db;
      if (indexLayout) indexLayoutOf(db);
      const version = db.prepare('PRAGMA data_version').pluck();
      const insert = db.prepare(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      let top = db.prepare('SELECT max(seq) FROM events').pluck().get();
      const h = 'f'.repeat(64);
      return timeIt(db, (i) => {
        version.get();
        insert.run(++top, incident.id, new Date().toISOString(), 'note.added', 'bench', `{"text":"note ${i}"}`, h, h, h, null, null);
      });
    };
    const same = await statements('ir.db', false);
    const indexed = await statements('indexed.db', true);
    return { single, same, indexed };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The events layout before the runs: the (incident_id, seq) index, and no trigger keeping runs. */
function indexLayoutOf(db) {
  db.exec('DROP TRIGGER IF EXISTS events_runs; CREATE INDEX IF NOT EXISTS events_incident ON events(incident_id, seq)');
}

/** One note per transaction through the Store interface, as on SQLite; one connection. */
async function measurePostgres(count) {
  const server = await startBenchPostgres();
  if (server.skipped) return server;
  try {
    const { openStore } = await import(join(root, 'dist', 'store', 'open.js'));
    const store = await openStore(server.url);
    try {
      const { incident } = await store.declare({ title: 'append bench', severity: 'SEV-3' }, new Date(), 'bench');
      for (let i = 0; i < 100; i++) await store.append(incident.id, () => ({ type: 'note.added', data: { text: `warm ${i}` } }), new Date(), 'bench');
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) await store.append(incident.id, () => ({ type: 'note.added', data: { text: `note ${i}` } }), new Date(), 'bench');
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      return { ms, perSecond: (count * 1000) / ms };
    } finally {
      await store.close();
    }
  } finally {
    server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await append();
  for (const row of r.rows) console.log(`${row.name.padEnd(34)} ${String(row.median_ms).padStart(8)} ms/event  ${row.detail}`);
}
