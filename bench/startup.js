// Start-up benchmark: whole `ir` processes against `node -e 0`, measured in the same run,
// interleaved, reported as ratios of medians — `--version`, `--help`, `note`, `status`, the runbook
// commands on the shipped runbooks, and `ir note` on the team store (PostgreSQL on loopback).
// IR_BENCH_ROOT names the checkout to measure (default: this one), so the same bench runs against
// an older build for a before/after table; a row that build cannot run prints "n/a".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchPostgres } from './postgres.js';

export const benchRoot = resolve(process.env.IR_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const bin = join(benchRoot, 'bin', 'ir.js');
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);

function time(args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
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
    for (let i = 0; i < rounds; i++) for (const [name, c] of Object.entries(cases)) samples[name].push(time(c.args, c.env ?? env));
    const base = median(samples['node -e 0']);
    const rows = [{ name: 'node -e 0', median_ms: Number(base.toFixed(1)), ratio: 1, target: null, met: null }];
    for (const name of Object.keys(targets)) {
      if (samples[name]) {
        const m = median(samples[name]);
        const ratio = m / base;
        rows.push({ name, median_ms: Number(m.toFixed(1)), ratio: Number(ratio.toFixed(2)), target: targets[name], met: ratio <= targets[name] });
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
    else console.log(`${r.name.padEnd(34)} ${String(r.median_ms).padStart(7)} ms  ${r.ratio.toFixed(2)}x${r.target ? `  (target ${r.target}x: ${r.met ? 'met' : 'MISSED'})` : ''}`);
  }
}
