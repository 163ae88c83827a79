// Evidence benchmark: `ir evidence collect --only k8s-logs` streaming pod logs from the fake API
// server to disk, hashing as it writes, in two shapes: one 1 GiB log, and 8 pods × 128 MiB with
// the default concurrency (several streams at once). Reports throughput (the logs' bytes over the
// collector's first-open→last-close span, and over the whole command) and the ir process's peak
// RSS (VmHWM, sampled from /proc). Targets (issue #14): >= 400 MB/s collector, peak RSS <= 150 MiB
// in both shapes. BENCH_LOG_BYTES overrides the single log's size, BENCH_POD_BYTES each pod's.
// IR_BENCH_ROOT names the checkout to measure (default this one), so an older build can be run
// through the same bench for a before/after table; the fake server always comes from this one.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { samplePeak } from './measure.js';
import { startFakeKube } from '../test/fixtures/kube/server.js';

const root = resolve(process.env.IR_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const bin = join(root, 'bin', 'ir.js');
const LOG_BYTES = Number(process.env.BENCH_LOG_BYTES ?? 1024 ** 3);
const POD_BYTES = Number(process.env.BENCH_POD_BYTES ?? 128 * 1024 ** 2);
const PODS = 8;
const TARGET_MBPS = 400;
const TARGET_MIB = 150;

function runIr(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const peak = samplePeak(child.pid, 25);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const peakKiB = peak.stop();
      resolve({ code, stdout, stderr, peakKiB });
    });
  });
}

const hashFile = (path) =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 }).on('data', (b) => h.update(b)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });

const podObject = (name) => ({
  metadata: { name, namespace: 'bench', uid: `u-${name}`, resourceVersion: '1', labels: { app: 'api' } },
  spec: { containers: [{ name: 'api', image: 'api:1' }] },
  status: { containerStatuses: [{ name: 'api', restartCount: 0 }] },
});

/** One collection of `pods` pods with `bytes` of log each; throughput and peak RSS of the ir process. */
async function collectCase(label, pods, bytes) {
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-ev-'));
  const names = Array.from({ length: pods }, (_, i) => `api-${i}`);
  const kube = await startFakeKube({
    namespace: 'bench',
    pods: names.map(podObject),
    logs: Object.fromEntries(names.map((n) => [`bench/${n}/api`, { generate: { bytes, lineBytes: 200 } }])),
  });
  const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
  delete env.IR_INCIDENT;
  delete env.IR_STORE;
  try {
    const declared = await runIr(['declare', '-t', 'bench', '-s', 'SEV-4'], env);
    if (declared.code !== 0) throw new Error(declared.stderr);
    const start = process.hrtime.bigint();
    const r = await runIr(['evidence', 'collect', '--json', '--only', 'k8s-logs', '--kubeconfig', kube.kubeconfigPath, '--since', '1h'], env);
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.code !== 0) throw new Error(`collect exited ${r.code}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    const logs = doc.files.filter((x) => x.file?.endsWith('.log'));
    let matches = logs.length === pods;
    for (const f of logs) {
      if (f.bytes !== bytes || (await hashFile(join(home, 'incidents', doc.incident, f.file))) !== f.sha256) matches = false;
    }
    const total = logs.reduce((n, f) => n + f.bytes, 0);
    const collectorMs = Math.max(...logs.map((f) => Date.parse(f.finished_at))) - Math.min(...logs.map((f) => Date.parse(f.started_at)));
    const mbps = (ms) => Number((total / 1e6 / (ms / 1000)).toFixed(1));
    const peakMiB = Number((r.peakKiB / 1024).toFixed(1));
    const met = mbps(collectorMs) >= TARGET_MBPS && peakMiB <= TARGET_MIB && matches;
    return {
      name: label,
      bytes: total,
      median_ms: collectorMs,
      collector_ms: collectorMs,
      wall_ms: Math.round(wallMs),
      collector_mb_per_s: mbps(collectorMs),
      wall_mb_per_s: mbps(wallMs),
      peak_rss_mib: peakMiB,
      sha256_matches_disk: matches,
      met,
      detail: `${mbps(collectorMs)} MB/s with sha256 (target >= ${TARGET_MBPS}), peak RSS ${peakMiB} MiB (target <= ${TARGET_MIB}), whole command ${Math.round(wallMs)} ms${matches ? '' : ', FILES DO NOT MATCH THEIR RECORDS'}: ${met ? 'met' : 'MISSED'}`,
    };
  } finally {
    await kube.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const gib = (n) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`);

export async function evidence() {
  const rows = [await collectCase(`evidence collect 1 log × ${gib(LOG_BYTES)}`, 1, LOG_BYTES), await collectCase(`evidence collect ${PODS} pods × ${gib(POD_BYTES)}`, PODS, POD_BYTES)];
  return {
    benchmark: 'evidence',
    root,
    targets: { mb_per_s: TARGET_MBPS, peak_rss_mib: TARGET_MIB },
    met: rows.every((r) => r.met),
    // The shape bench/run.js prints.
    rounds: 1,
    rows,
  };
}

export function printEvidence(r) {
  console.log(`# evidence: pod logs from the fake API server, streamed and sha256-hashed (${r.root})`);
  for (const row of r.rows) {
    console.log(`${row.name}`);
    console.log(`  collector      ${String(row.collector_ms).padStart(7)} ms  ${row.collector_mb_per_s} MB/s  (target >= ${r.targets.mb_per_s} MB/s)`);
    console.log(`  whole command  ${String(row.wall_ms).padStart(7)} ms  ${row.wall_mb_per_s} MB/s`);
    console.log(`  peak RSS       ${row.peak_rss_mib} MiB  (target <= ${r.targets.peak_rss_mib} MiB)`);
    console.log(`  sha256 and size match the files on disk: ${row.sha256_matches_disk}; ${row.met ? 'met' : 'MISSED'}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await evidence();
  if (process.env.BENCH_JSON) console.log(JSON.stringify(r, null, 2));
  else printEvidence(r);
}
