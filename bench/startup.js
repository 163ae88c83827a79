// Start-up benchmark: `ir --version`, `ir --help`, `ir note` and `ir note` on the team store
// (PostgreSQL on loopback) against `node -e 0`, measured in the same run, interleaved, reported as
// ratios of medians. Targets: 1.3x, 1.6x, 2.0x, 2.5x (a connection, SCRAM and a round trip or few).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchPostgres } from './postgres.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'ir.js');
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const home = mkdtempSync(join(tmpdir(), 'ir-bench-'));
const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
delete env.IR_INCIDENT;

function time(args, extraEnv = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const PG_NOTE = 'ir note (PostgreSQL)';

export async function startup() {
  time([bin, 'declare', '--title', 'bench', '--severity', 'SEV-4']);
  const cases = {
    'node -e 0': { args: ['-e', '0'] },
    'ir --version': { args: [bin, '--version'] },
    'ir --help': { args: [bin, '--help'] },
    'ir note': { args: [bin, 'note', 'benchmark note'] },
  };
  // The team store's server runs on this machine too, so its work is in the ratio; fsync is on.
  const server = await startBenchPostgres();
  try {
    if (!server.skipped) {
      const team = { IR_STORE: server.url };
      time([bin, 'declare', '--title', 'bench', '--severity', 'SEV-4'], team);
      cases[PG_NOTE] = { args: [bin, 'note', 'benchmark note'], env: team };
    }
    const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (const c of Object.values(cases)) time(c.args, c.env); // warm the file cache
    for (let i = 0; i < rounds; i++) for (const [name, c] of Object.entries(cases)) samples[name].push(time(c.args, c.env));
    const base = median(samples['node -e 0']);
    const targets = { 'ir --version': 1.3, 'ir --help': 1.6, 'ir note': 2.0, [PG_NOTE]: 2.5 };
    const rows = Object.keys(cases).map((name) => {
      const m = median(samples[name]);
      const ratio = m / base;
      return { name, median_ms: Number(m.toFixed(1)), ratio: Number(ratio.toFixed(2)), target: targets[name] ?? null, met: targets[name] ? ratio <= targets[name] : null };
    });
    if (server.skipped) rows.push({ name: PG_NOTE, median_ms: null, target: targets[PG_NOTE], met: null, detail: `skipped: ${server.skipped}` });
    return { benchmark: 'startup', rounds, rows };
  } finally {
    server.stop?.();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await startup();
  for (const r of result.rows) {
    if (r.median_ms === null) console.log(`${r.name.padEnd(20)} ${r.detail}`);
    else console.log(`${r.name.padEnd(20)} ${String(r.median_ms).padStart(7)} ms  ${r.ratio.toFixed(2)}x${r.target ? `  (target ${r.target}x: ${r.met ? 'met' : 'MISSED'})` : ''}`);
  }
}
