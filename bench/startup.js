// Start-up benchmark: `ir --version`, `ir --help` and `ir note` against `node -e 0`, measured in
// the same run, interleaved, reported as ratios of medians. Targets: 1.3x, 1.6x, 2.0x.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'ir.js');
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const home = mkdtempSync(join(tmpdir(), 'ir-bench-'));
const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
delete env.IR_INCIDENT;

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function startup() {
  time([bin, 'declare', '--title', 'bench', '--severity', 'SEV-4']);
  const cases = {
    'node -e 0': ['-e', '0'],
    'ir --version': [bin, '--version'],
    'ir --help': [bin, '--help'],
    'ir note': [bin, 'note', 'benchmark note'],
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const args of Object.values(cases)) time(args); // warm the file cache
  for (let i = 0; i < rounds; i++) for (const [name, args] of Object.entries(cases)) samples[name].push(time(args));
  const base = median(samples['node -e 0']);
  const targets = { 'ir --version': 1.3, 'ir --help': 1.6, 'ir note': 2.0 };
  const rows = Object.keys(cases).map((name) => {
    const m = median(samples[name]);
    const ratio = m / base;
    return { name, median_ms: Number(m.toFixed(1)), ratio: Number(ratio.toFixed(2)), target: targets[name] ?? null, met: targets[name] ? ratio <= targets[name] : null };
  });
  rmSync(home, { recursive: true, force: true });
  return { benchmark: 'startup', rounds, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = startup();
  for (const r of result.rows) {
    console.log(`${r.name.padEnd(14)} ${String(r.median_ms).padStart(7)} ms  ${r.ratio.toFixed(2)}x${r.target ? `  (target ${r.target}x: ${r.met ? 'met' : 'MISSED'})` : ''}`);
  }
}
