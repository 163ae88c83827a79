// Start-up benchmark: whole `ir` processes against `node -e 0`, measured in the same run,
// interleaved, reported as ratios of medians (and of mean CPU time, see childrenCpuMs) — `--version`,
// `--help`, `note`, `status`, the runbook commands on the shipped runbooks, and `ir note` on the team
// store (PostgreSQL on loopback).
// IR_BENCH_ROOT names the checkout to measure (default: this one), so the same bench runs against
// an older build for a before/after table; a row that build cannot run prints "n/a".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchPostgres } from './postgres.js';

export const benchRoot = resolve(process.env.IR_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const bin = join(benchRoot, 'bin', 'ir.js');
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);

/**
 * CPU time (user + system, ms) of this process's waited-for children so far, from /proc (Linux; null
 * elsewhere). It counts in clock ticks (10 ms), too coarse for one run, so a case reports its mean over
 * all rounds: CPU time moves less than wall time when other work shares the machine.
 */
function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // cutime and cstime: fields 16 and 17 of proc(5), counted from the state (field 3) here.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
const TICKS_PER_SECOND = 100;

function time(args, env, cpu) {
  const start = process.hrtime.bigint();
  const before = childrenCpuMs();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const after = childrenCpuMs();
  if (cpu && before !== null && after !== null) cpu.push(after - before);
  return ms;
}

/** Why `args` cannot be measured here (it fails), or undefined when it runs. */
function cannotRun(args, env) {
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  return r.status === 0 ? undefined : `n/a (exit ${r.status}: ${(r.stderr.split('\n')[0] || '').slice(0, 80)})`;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const PG_NOTE = 'ir note (PostgreSQL)';
const SHOW_ID = 'redis-failure';

export async function startup() {
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-'));
  const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
  delete env.IR_INCIDENT;
  delete env.IR_RUNBOOKS;
  time([bin, 'declare', '--title', 'bench', '--severity', 'SEV-4'], env);
  const targets = {
    'ir --version': 1.15,
    'ir --help': 1.5,
    'ir note': 1.6,
    'ir status': 2.0,
    [`ir runbook show ${SHOW_ID}`]: 2.5,
    [`ir runbook ${SHOW_ID} --dry-run`]: 2.5,
    'ir runbook list': 3,
    'ir runbook validate runbooks/': 3,
    [PG_NOTE]: 2.5,
  };
  const cases = {
    'node -e 0': { args: ['-e', '0'] },
    'ir --version': { args: [bin, '--version'] },
    'ir --help': { args: [bin, '--help'] },
    'ir note': { args: [bin, 'note', 'benchmark note'] },
    'ir status': { args: [bin, 'status'] },
    [`ir runbook show ${SHOW_ID}`]: { args: [bin, 'runbook', 'show', SHOW_ID] },
    [`ir runbook ${SHOW_ID} --dry-run`]: { args: [bin, 'runbook', SHOW_ID, '--dry-run'] },
    'ir runbook list': { args: [bin, 'runbook', 'list'] },
    'ir runbook validate runbooks/': { args: [bin, 'runbook', 'validate', join(benchRoot, 'runbooks')] },
  };
  // The team store's server runs on this machine too, so its work is in the ratio; fsync is on.
  const server = await startBenchPostgres();
  try {
    if (!server.skipped) {
      const team = { ...env, IR_STORE: server.url };
      time([bin, 'declare', '--title', 'bench', '--severity', 'SEV-4'], team);
      cases[PG_NOTE] = { args: [bin, 'note', 'benchmark note'], env: team };
    }
    const skipped = {};
    for (const [name, c] of Object.entries(cases)) {
      const why = cannotRun(c.args, c.env ?? env); // also warms the file cache (and ir's own caches)
      if (why) {
        skipped[name] = why;
        delete cases[name];
      }
    }
    const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let i = 0; i < rounds; i++) for (const [name, c] of Object.entries(cases)) samples[name].push(time(c.args, c.env ?? env, cpu[name]));
    const meanCpu = (name) => (cpu[name].length === rounds ? cpu[name].reduce((a, b) => a + b, 0) / rounds : null);
    const base = median(samples['node -e 0']);
    const baseCpu = meanCpu('node -e 0');
    const cpuOf = (name) => {
      const c = meanCpu(name);
      return c === null || !baseCpu ? {} : { cpu_ms: Number(c.toFixed(1)), cpu_ratio: Number((c / baseCpu).toFixed(2)) };
    };
    const rows = [{ name: 'node -e 0', median_ms: Number(base.toFixed(1)), ratio: 1, target: null, met: null, ...cpuOf('node -e 0') }];
    for (const name of Object.keys(targets)) {
      if (samples[name]) {
        const m = median(samples[name]);
        const ratio = m / base;
        rows.push({ name, median_ms: Number(m.toFixed(1)), ratio: Number(ratio.toFixed(2)), target: targets[name], met: ratio <= targets[name], ...cpuOf(name) });
      } else {
        rows.push({ name, median_ms: null, target: targets[name], met: null, detail: name === PG_NOTE && server.skipped ? `skipped: ${server.skipped}` : skipped[name] ?? 'n/a' });
      }
    }
    return { benchmark: `startup (${benchRoot})`, rounds, rows };
  } finally {
    server.stop?.();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await startup();
  console.log(`# ${result.benchmark}, ${result.rounds} rounds, medians`);
  for (const r of result.rows) {
    if (r.median_ms === null) console.log(`${r.name.padEnd(34)} ${r.detail}`);
    else console.log(`${r.name.padEnd(34)} ${String(r.median_ms).padStart(7)} ms  ${r.ratio.toFixed(2)}x${r.target ? `  (target ${r.target}x: ${r.met ? 'met' : 'MISSED'})` : ''}${r.cpu_ms !== undefined ? `  cpu ${r.cpu_ms} ms mean, ${r.cpu_ratio.toFixed(2)}x` : ''}`);
  }
}
