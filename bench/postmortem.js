// Postmortem benchmark: an incident with 10,000 events, `ir postmortem ID --out FILE` end to end
// (process start included). Target: <= 0.5 s. Reported with `node -e 0` in the same run for scale.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'ir.js');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function postmortem({ events = 10_000, rounds = Number(process.env.BENCH_ROUNDS ?? 7) } = {}) {
  const { openStore } = await import(join(root, 'dist', 'store', 'open.js'));
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-pm-'));
  const store = await openStore(join(home, 'ir.db'));
  const t0 = Date.parse('2026-11-22T02:00:00Z');
  const { incident } = await store.declare({ title: 'Benchmark incident', severity: 'SEV-1', service: 'checkout', impact: 'synthetic' }, new Date(t0), 'bench');
  let n = 1;
  const batch = 500;
  while (n < events - 1) {
    const at = new Date(t0 + n * 1000);
    const count = Math.min(batch, events - 1 - n);
    await store.append(
      incident.id,
      () =>
        Array.from({ length: count }, (_, i) => {
          const k = n + i;
          if (k % 10 === 0) {
            return { type: 'runbook.step', data: { run_id: 'RUN-BENCH-1', runbook: 'redis-failure', phase: 'immediate', step: `s${k}`, kind: 'run', title: `Step ${k}`, outcome: 'ok', command: `redis-cli -h 127.0.0.1 -p 6379 INFO memory`, exit_code: 0, duration_ms: 12, output_file: `${home}/incidents/${incident.id}/runbooks/RUN-BENCH-1/${k}.log`, sha256: 'f'.repeat(64), bytes: 2048 } };
          }
          return { type: 'note.added', data: { text: `observation ${k}: p99 latency ${200 + (k % 300)}ms on shard ${k % 16}` } };
        }),
      at,
      'bench',
    );
    n += count;
  }
  await store.append(incident.id, () => ({ type: 'incident.resolved', data: { summary: 'benchmark done' } }), new Date(t0 + events * 1000), 'bench');
  await store.close();

  const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
  const out = join(home, 'pm.md');
  const time = (args) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  time([bin, 'postmortem', incident.id, '--out', out]);
  const pm = [];
  const node = [];
  for (let i = 0; i < rounds; i++) {
    node.push(time(['-e', '0']));
    pm.push(time([bin, 'postmortem', incident.id, '--out', out]));
  }
  const bytes = statSync(out).size;
  rmSync(home, { recursive: true, force: true });
  const ms = median(pm);
  return { benchmark: 'postmortem', events, rounds, rows: [
    { name: 'node -e 0', median_ms: Number(median(node).toFixed(1)) },
    { name: `ir postmortem (${events} events)`, median_ms: Number(ms.toFixed(1)), target_ms: 500, met: ms <= 500, report_bytes: bytes },
  ] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await postmortem();
  for (const row of r.rows) console.log(`${row.name.padEnd(34)} ${String(row.median_ms).padStart(8)} ms${row.target_ms ? `  (target ${row.target_ms} ms: ${row.met ? 'met' : 'MISSED'})` : ''}`);
}
