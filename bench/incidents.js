// Incident-count curve: `ir list`, `ir list --json`, `ir status` (IR_INCIDENT set to one of them)
// and `ir metrics` over stores of 100, 1k and 10k incidents, each spawned as a user runs it; median
// time and peak RSS (VmHWM, sampled from /proc) per size, so a command that reads more than it needs
// (every event of every incident, a query per incident) shows as a bend in the curve.
// The stores are seeded in process through the measured build's own SQLite store code, in one
// transaction per store: declared, acknowledged, mitigated and (all but one in 20) resolved
// incidents over the last 80 days, every event hashed and chained as `ir` writes it.
// IR_BENCH_ROOT names the checkout to measure (default this one), for a before/after table;
// BENCH_INCIDENT_SIZES (e.g. "100,1000") and BENCH_ROUNDS_INCIDENTS override the sizes and rounds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { samplePeak } from './measure.js';

const root = resolve(process.env.IR_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const bin = join(root, 'bin', 'ir.js');
const SIZES = (process.env.BENCH_INCIDENT_SIZES ?? '100,1000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS_INCIDENTS ?? 5);
const SEVERITIES = ['SEV-0', 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'];
const SERVICES = ['checkout', 'search', 'payments', 'auth', 'catalog', 'email'];

/** Seeds `count` incidents into <home>/ir.db; returns the id of one that is still open. */
export async function seed(home, count) {
  const { SqliteStore } = await import(join(root, 'dist', 'store', 'sqlite', 'store.js'));
  const store = SqliteStore.open(join(home, 'ir.db'));
  const db = store.db;
  const now = Date.now();
  const min = 60_000;
  let open;
  // One transaction for the lot (better-sqlite3 nests the store's own as savepoints): one fsync.
  db.write(() => {
    for (let i = 0; i < count; i++) {
      const declared = now - 80 * 24 * 3600_000 + Math.floor((i / count) * 79 * 24 * 3600_000);
      const severity = SEVERITIES[i % SEVERITIES.length];
      const at = (m) => new Date(declared + m * min);
      const { incident } = db.declare(
        { title: `bench incident ${i}`, severity, service: SERVICES[i % SERVICES.length], commander: 'alice', detected_at: at(-5 - (i % 7)).toISOString() },
        at(0),
        'bench',
      );
      db.append(incident.id, () => ({ type: 'incident.acknowledged', data: {} }), at(3 + (i % 20)), 'alice');
      db.append(incident.id, () => ({ type: 'incident.state_changed', data: { from: 'investigating', to: 'mitigating' } }), at(30 + (i % 50)), 'alice');
      db.append(incident.id, () => ({ type: 'note.added', data: { text: `rolled back deploy ${i}` } }), at(40 + (i % 50)), 'bob');
      db.append(incident.id, () => ({ type: 'incident.state_changed', data: { from: 'mitigating', to: 'monitoring' } }), at(60 + (i % 90)), 'alice');
      if (i % 20 === 7) open = incident.id;
      else db.append(incident.id, () => ({ type: 'incident.resolved', data: { summary: `fixed ${i}` } }), at(120 + (i % 300)), 'alice');
    }
  });
  await store.close();
  return open;
}

function runIr(args, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let bytes = 0;
    const peak = samplePeak(child.pid, 5);
    child.stdout.on('data', (d) => (bytes += d.length));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const peakKiB = peak.stop();
      if (code !== 0) reject(new Error(`ir ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, peakKiB, bytes });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const COMMANDS = [
  ['ir list', ['list']],
  ['ir list --json', ['list', '--json']],
  ['ir status', ['status']],
  ['ir metrics', ['metrics']],
];

export async function incidents() {
  const rows = [];
  for (const size of SIZES) {
    const home = mkdtempSync(join(tmpdir(), 'ir-bench-inc-'));
    try {
      const current = await seed(home, size);
      const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1', IR_INCIDENT: current };
      delete env.IR_STORE;
      for (const [, args] of COMMANDS) await runIr(args, env); // warm the file cache
      const samples = Object.fromEntries(COMMANDS.map(([name]) => [name, []]));
      // Interleaved, so a burst of load elsewhere on the machine falls on every command alike.
      for (let r = 0; r < ROUNDS; r++) for (const [name, args] of COMMANDS) samples[name].push(await runIr(args, env));
      for (const [name] of COMMANDS) {
        const ms = Number(median(samples[name].map((s) => s.ms)).toFixed(1));
        const peakMiB = Number((Math.max(...samples[name].map((s) => s.peakKiB)) / 1024).toFixed(1));
        rows.push({ name: `${name} (${size.toLocaleString('en')} incidents)`, command: name, incidents: size, median_ms: ms, peak_rss_mib: peakMiB, detail: `peak RSS ${peakMiB} MiB` });
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  // The bend: time per 10x more incidents, for each command (1.0 is flat, 10 is linear).
  for (const [name] of COMMANDS) {
    const mine = rows.filter((r) => r.command === name);
    for (let i = 1; i < mine.length; i++) mine[i].detail += `, ${(mine[i].median_ms / mine[i - 1].median_ms).toFixed(2)}x the time at ${mine[i - 1].incidents.toLocaleString('en')}`;
  }
  rows.sort((a, b) => COMMANDS.findIndex(([n]) => n === a.command) - COMMANDS.findIndex(([n]) => n === b.command) || a.incidents - b.incidents);
  return { benchmark: `incidents (${root})`, rounds: ROUNDS, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await incidents();
  if (process.env.BENCH_JSON) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`# ${r.benchmark} (${r.rounds} rounds, medians)`);
    for (const row of r.rows) console.log(`${row.name.padEnd(38)} ${String(row.median_ms).padStart(8)} ms  ${row.detail}`);
  }
}
