// Long-incident benchmark: curves at 1k, 10k, 100k and 1M events of one incident for `ir postmortem`,
// `ir show`, `ir timeline` (human and --json) and `ir timeline --verify`, each a whole process,
// with its wall time and peak RSS (GNU time's %M), so a regression shows as a bend.
// Targets: 100k events <= 0.5 s and <= 100 MiB; 1M <= 5 s and <= 120 MiB; verify of 1M <= 3 s.
//
// IR_BENCH_ROOT names the checkout to measure (default: this one), so the same bench runs against
// an older build; the incident is seeded through that checkout's own store code (so its chain
// verifies), and a command it cannot run prints n/a. BENCH_EVENTS=1000,10000 picks the points;
// BENCH_SEED_DIR keeps seeded databases between runs (schema 8: both builds open them; a newer one
// migrates the copy it measures, once, before the rounds: that first open is a row of its own).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.env.IR_BENCH_ROOT ?? here);
const bin = join(root, 'bin', 'ir.js');
const TIME = '/usr/bin/time';
const MiB = 1024 * 1024;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const T0 = Date.parse('2026-11-22T02:00:00Z');
const INCIDENT = 'INC-20261122-001';

/** One synthetic event: mostly notes, every 10th a runbook check with its output file. */
function syntheticEvent(k, home) {
  if (k % 10 === 0) {
    return { type: 'runbook.step', data: { run_id: 'RUN-BENCH-1', runbook: 'redis-failure', phase: 'immediate', step: `s${k}`, kind: 'run', title: `Step ${k}`, outcome: 'ok', command: 'redis-cli -h 127.0.0.1 -p 6379 INFO memory', exit_code: 0, duration_ms: 12, output_file: `${home}/incidents/${INCIDENT}/runbooks/RUN-BENCH-1/${k}.log`, sha256: 'f'.repeat(64), bytes: 2048 } };
  }
  return { type: 'note.added', data: { text: `observation ${k}: p99 latency ${200 + (k % 300)}ms on shard ${k % 16}` } };
}

/**
 * A home whose store holds one resolved incident of `events` events, written by the measured
 * checkout's own SqliteStore (synchronous=NORMAL, 1,000 events per transaction): a valid chain.
 */
async function seed(events) {
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-pm-'));
  const keep = process.env.BENCH_SEED_DIR && join(process.env.BENCH_SEED_DIR, `events-${events}.db`);
  if (keep && existsSync(keep)) {
    copyFileSync(keep, join(home, 'ir.db'));
    return { home, copied: true };
  }
  const { SqliteStore } = await import(join(root, 'dist', 'store', 'sqlite', 'store.js'));
  const store = SqliteStore.open(join(home, 'ir.db'), { synchronous: 'NORMAL' });
  const { incident } = await store.declare({ title: 'Benchmark incident', severity: 'SEV-1', service: 'checkout', impact: 'synthetic' }, new Date(T0), 'bench');
  if (incident.id !== INCIDENT) throw new Error(`seeded ${incident.id}, expected ${INCIDENT}`);
  await store.append(INCIDENT, () => ({ type: 'runbook.started', data: { run_id: 'RUN-BENCH-1', runbook: 'redis-failure', title: 'Redis failure' } }), new Date(T0 + 500), 'bench');
  const batch = 1000;
  for (let n = 2; n < events - 1; ) {
    const count = Math.min(batch, events - 1 - n);
    const first = n;
    await store.append(INCIDENT, () => Array.from({ length: count }, (_, i) => syntheticEvent(first + i, home)), new Date(T0 + n * 1000), 'bench');
    n += count;
  }
  await store.append(INCIDENT, () => ({ type: 'incident.resolved', data: { summary: 'benchmark done' } }), new Date(T0 + events * 1000), 'bench');
  await store.close();
  if (keep) {
    mkdirSync(dirname(keep), { recursive: true });
    copyFileSync(join(home, 'ir.db'), `${keep}.tmp`);
    renameSync(`${keep}.tmp`, keep);
  }
  return { home, copied: false };
}

/**
 * One whole `ir` process: wall time (ms), CPU time (user + system, ms: steadier than wall time on a
 * busy machine) and peak RSS (bytes), or the reason it failed.
 */
function measure(args, env) {
  const stats = join(env.IR_HOME, 'time.txt');
  const start = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-o', stats, '-f', '%M %U %S', process.execPath, bin, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n').pop()?.slice(0, 80) ?? ''}` };
  const [kib, user, system] = readFileSync(stats, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpu: (user + system) * 1000, rss: kib * 1024 };
}

const COMMANDS = [
  { name: 'postmortem', args: (out) => ['postmortem', INCIDENT, '--out', out] },
  { name: 'show', args: () => ['show', INCIDENT] },
  { name: 'timeline', args: () => ['timeline', INCIDENT] },
  { name: 'timeline --json', args: () => ['timeline', INCIDENT, '--json'] },
  { name: 'timeline --verify', args: () => ['timeline', INCIDENT, '--verify'] },
];

/** Targets from issue #14 for the points it names. */
function target(name, events) {
  if (name === 'timeline --verify') return events === 1_000_000 ? { ms: 3000 } : undefined;
  if (events === 100_000) return { ms: 500, rss: 100 * MiB };
  if (events === 1_000_000) return { ms: 5000, rss: 120 * MiB };
  return undefined;
}

export async function postmortem({ points = (process.env.BENCH_EVENTS ?? '1000,10000,100000,1000000').split(',').map(Number) } = {}) {
  const rows = [];
  for (const events of points) {
    const { home, copied } = await seed(events);
    const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
    delete env.IR_INCIDENT;
    delete env.IR_STORE;
    if (copied) {
      // A kept seed may be of an older schema: the measured build migrates it on its first open, which
      // is timed here (`ir list`) and not inside the first round of a command.
      const m = measure(['list'], env);
      rows.push(
        m.error
          ? { name: `first open (${events} events)`, median_ms: null, detail: `n/a (${m.error})` }
          : { name: `first open (${events} events)`, median_ms: Number(m.ms.toFixed(1)), cpu_ms: Math.round(m.cpu), peak_rss_mib: Number((m.rss / MiB).toFixed(1)), detail: `cpu ${Math.round(m.cpu)} ms, peak ${(m.rss / MiB).toFixed(1)} MiB: \`ir list\` on the kept seed's copy, with any migration to this build's schema` },
      );
    }
    const out = join(home, 'pm.md');
    const rounds = events <= 10_000 ? 5 : events <= 100_000 ? 3 : 1;
    for (const c of COMMANDS) {
      const runs = [];
      let failed;
      for (let i = 0; i < rounds && !failed; i++) {
        const m = measure(c.args(out), env);
        if (m.error) failed = m.error;
        else runs.push(m);
      }
      const name = `${c.name} (${events} events)`;
      if (failed) {
        rows.push({ name, median_ms: null, detail: `n/a (${failed})` });
        continue;
      }
      const ms = median(runs.map((r) => r.ms));
      const rss = Math.max(...runs.map((r) => r.rss));
      const cpu = median(runs.map((r) => r.cpu));
      const t = target(c.name, events);
      const met = t ? ms <= t.ms && (!t.rss || rss <= t.rss) : undefined;
      const extra = c.name === 'postmortem' ? `, report ${(statSync(out).size / MiB).toFixed(1)} MiB` : '';
      rows.push({
        name,
        median_ms: Number(ms.toFixed(1)),
        cpu_ms: Math.round(cpu),
        peak_rss_mib: Number((rss / MiB).toFixed(1)),
        detail: `cpu ${Math.round(cpu)} ms, peak ${(rss / MiB).toFixed(1)} MiB${extra}${t ? ` (target ${t.ms} ms${t.rss ? `, ${t.rss / MiB} MiB` : ''}: ${met ? 'met' : 'MISSED'})` : ''}`,
      });
    }
    rmSync(home, { recursive: true, force: true });
  }
  return { benchmark: `long incidents (${root === here ? 'this checkout' : root}; whole processes)`, rounds: '5/3/1', rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await postmortem();
  console.log(`# ${r.benchmark}`);
  for (const row of r.rows) console.log(`${row.name.padEnd(38)} ${row.median_ms === null ? '-'.padStart(8) : String(row.median_ms).padStart(8)} ms  ${row.detail}`);
}
