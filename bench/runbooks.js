// Runbook-count curve: `ir runbook list`, `ir runbook validate DIR` and `ir runbook show ID` over a
// directory of 1, 10 and 100 runbooks (copies of the shipped ones under new ids, with the shipped
// severities.yaml), each as median wall time and peak RSS of the process, plus the first run on an
// empty cache (cold) — so a cost that grows with the directory shows as a bend.
// IR_BENCH_ROOT names the checkout to measure, as for bench/startup.js.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchRoot, median } from './startup.js';

const bin = join(benchRoot, 'bin', 'ir.js');
const rounds = Math.max(5, Math.round(Number(process.env.BENCH_ROUNDS ?? 40) / 4));
const SIZES = [1, 10, 100];
// GNU time reports the child's peak RSS (ru_maxrss) in KiB with -f %M.
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** A directory of n runbooks: the shipped ones in turn, each under a new id (file name and `id:`). */
function runbookDir(n) {
  const shipped = join(benchRoot, 'runbooks');
  const sources = readdirSync(shipped).filter((f) => /\.ya?ml$/.test(f) && !/^(severities|evidence|schema)\b/.test(f)).sort();
  const dir = mkdtempSync(join(tmpdir(), `ir-bench-runbooks-${n}-`));
  copyFileSync(join(shipped, 'severities.yaml'), join(dir, 'severities.yaml'));
  const ids = [];
  for (let i = 0; i < n; i++) {
    const source = sources[i % sources.length];
    const id = `${source.replace(/\.ya?ml$/, '')}-${String(i).padStart(3, '0')}`;
    const text = readFileSync(join(shipped, source), 'utf8');
    writeFileSync(join(dir, `${id}.yaml`), /^id:/m.test(text) ? text.replace(/^id:.*$/m, `id: ${id}`) : text);
    ids.push(id);
  }
  return { dir, ids };
}

function measure(args, env) {
  const argv = TIME ? [TIME, '-f', '%M', process.execPath, ...args] : [process.execPath, ...args];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) return { error: `exit ${r.status}: ${r.stderr.split('\n')[0]}` };
  const kib = TIME ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { ms, mib: kib / 1024 };
}

export async function runbooks() {
  const rows = [];
  for (const n of SIZES) {
    const { dir, ids } = runbookDir(n);
    const home = mkdtempSync(join(tmpdir(), 'ir-bench-home-'));
    const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1', IR_RUNBOOKS: dir };
    delete env.IR_INCIDENT;
    const cases = {
      [`runbook list (${n})`]: [bin, 'runbook', 'list'],
      [`runbook validate DIR (${n})`]: [bin, 'runbook', 'validate', dir],
      [`runbook show ID (${n})`]: [bin, 'runbook', 'show', ids[ids.length - 1]],
    };
    try {
      for (const [name, args] of Object.entries(cases)) {
        // The first run in an empty home: nothing of ir's own caches to help.
        rmSync(join(home, 'cache'), { recursive: true, force: true });
        const cold = measure(args, env);
        if (cold.error) {
          rows.push({ name, median_ms: null, detail: `n/a (${cold.error.slice(0, 80)})` });
          continue;
        }
        const runs = Array.from({ length: rounds }, () => measure(args, env));
        const failed = runs.find((r) => r.error);
        if (failed) {
          rows.push({ name, median_ms: null, detail: `n/a (${failed.error.slice(0, 80)})` });
          continue;
        }
        const peak = Math.max(...runs.map((r) => r.mib));
        const mib = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} MiB` : 'RSS n/a');
        rows.push({
          name,
          median_ms: Number(median(runs.map((r) => r.ms)).toFixed(1)),
          peak_mib: Number.isFinite(peak) ? Number(peak.toFixed(1)) : null,
          detail: `peak ${mib(peak)}; cold (empty cache) ${cold.ms.toFixed(0)} ms, ${mib(cold.mib)}`,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  }
  return { benchmark: `runbooks curve (${benchRoot})`, rounds, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runbooks();
  console.log(`# ${result.benchmark}, ${result.rounds} rounds, medians`);
  for (const r of result.rows) console.log(`${r.name.padEnd(30)} ${r.median_ms === null ? '-'.padStart(8) : `${String(r.median_ms).padStart(8)} ms`}  ${r.detail}`);
}
