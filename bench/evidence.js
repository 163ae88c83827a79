// Evidence benchmark: `ir evidence collect --only k8s-logs` streaming pod logs from the fake API
// server to disk, hashing as it writes, in two shapes: one 1 GiB log, and 8 pods × 128 MiB with
// the default concurrency (several streams at once). Reports throughput (the logs' bytes over the
// collector's first-open→last-close span, and over the whole command) and the ir process's peak
// RSS (VmHWM, sampled from /proc). Targets (issue #14): >= 400 MB/s collector, peak RSS <= 150 MiB
// in both shapes. BENCH_LOG_BYTES overrides the single log's size, BENCH_POD_BYTES each pod's.
// IR_BENCH_ROOT names the checkout to measure (default this one), so an older build can be run
// through the same bench for a before/after table; the fake server always comes from this one.
// IR_BENCH_COMPARE=DIR also measures that checkout, each shape right after this one's, so a
// before/after pair shares the machine's load. CPU is the ir process's user+system time.
//
// The ceiling rows say what the fake server itself allows on this machine in this run: curl
// reading the 1 GiB log into /dev/null (the server's own speed) and into a file, and a plain node
// http GET piped to a file while hashing it with sha256 (what a simple collector reaches).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { samplePeak } from './measure.js';
import { startFakeKube } from '../test/fixtures/kube/server.js';

const root = resolve(process.env.IR_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const compare = process.env.IR_BENCH_COMPARE ? resolve(process.env.IR_BENCH_COMPARE) : undefined;
const LOG_BYTES = Number(process.env.BENCH_LOG_BYTES ?? 1024 ** 3);
const POD_BYTES = Number(process.env.BENCH_POD_BYTES ?? 128 * 1024 ** 2);
const PODS = 8;
const TARGET_MBPS = 400;
const TARGET_MIB = 150;

/** User+system CPU seconds of a running process, sampled until stop() (the last sample before exit). */
function sampleCpu(pid, everyMs) {
  let cpu = 0;
  const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const sample = () => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpu = (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      /* exited */
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return cpu;
    },
  };
}

function runIr(irRoot, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(irRoot, 'bin', 'ir.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const peak = samplePeak(child.pid, 25);
    const cpu = sampleCpu(child.pid, 25);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const peakKiB = peak.stop();
      resolve({ code, stdout, stderr, peakKiB, cpuS: cpu.stop() });
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

const startKube = (names, bytes) =>
  startFakeKube({
    namespace: 'bench',
    pods: names.map(podObject),
    logs: Object.fromEntries(names.map((n) => [`bench/${n}/api`, { generate: { bytes, lineBytes: 200 } }])),
  });

/** One collection of `pods` pods with `bytes` of log each; throughput and peak RSS of the ir process. */
async function collectCase(label, pods, bytes, irRoot = root) {
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-ev-'));
  const names = Array.from({ length: pods }, (_, i) => `api-${i}`);
  const kube = await startKube(names, bytes);
  const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
  delete env.IR_INCIDENT;
  delete env.IR_STORE;
  try {
    const declared = await runIr(irRoot, ['declare', '-t', 'bench', '-s', 'SEV-4'], env);
    if (declared.code !== 0) throw new Error(declared.stderr);
    const start = process.hrtime.bigint();
    const r = await runIr(irRoot, ['evidence', 'collect', '--json', '--only', 'k8s-logs', '--kubeconfig', kube.kubeconfigPath, '--since', '1h'], env);
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
      root: irRoot,
      bytes: total,
      cpu_s: Number(r.cpuS.toFixed(2)),
      median_ms: collectorMs,
      collector_ms: collectorMs,
      wall_ms: Math.round(wallMs),
      collector_mb_per_s: mbps(collectorMs),
      wall_mb_per_s: mbps(wallMs),
      peak_rss_mib: peakMiB,
      sha256_matches_disk: matches,
      met,
      detail: `${mbps(collectorMs)} MB/s with sha256 (target >= ${TARGET_MBPS}), peak RSS ${peakMiB} MiB (target <= ${TARGET_MIB}), whole command ${Math.round(wallMs)} ms, CPU ${r.cpuS.toFixed(2)} s${matches ? '' : ', FILES DO NOT MATCH THEIR RECORDS'}: ${met ? 'met' : 'MISSED'}`,
    };
  } finally {
    await kube.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** A child's run: exit code, stdout, stderr. */
const runChild = (cmd, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

// A plain collector: GET, hash each chunk with sha256, pipe to a file; prints ms from request to close.
const PLAIN_GET = `
const { get } = require('node:http');
const { createHash } = require('node:crypto');
const { createWriteStream } = require('node:fs');
const t0 = process.hrtime.bigint();
const h = createHash('sha256');
get(process.argv[1], (res) => {
  const out = createWriteStream(process.argv[2]);
  res.on('data', (b) => h.update(b));
  res.pipe(out).on('close', () => console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes: out.bytesWritten, sha256: h.digest('hex') })));
});`;

/** The fake server's ceiling for one log of `bytes`: curl and a plain node GET against the same server. */
async function ceilingRows(bytes) {
  const kube = await startKube(['api-0'], bytes);
  const url = `${kube.url}/api/v1/namespaces/bench/pods/api-0/log?container=api&timestamps=true`;
  const dir = mkdtempSync(join(tmpdir(), 'ir-bench-ceiling-'));
  const row = (name, ms, got, note) => {
    const mb = Number((bytes / 1e6 / (ms / 1000)).toFixed(1));
    return { name, bytes: got, median_ms: Math.round(ms), collector_mb_per_s: mb, ceiling: true, met: true, detail: `${mb} MB/s (${note}; no target)` };
  };
  const rows = [];
  try {
    for (const [name, out] of [
      ['ceiling: curl > /dev/null', '/dev/null'],
      ['ceiling: curl > file', join(dir, 'curl.log')],
    ]) {
      const r = await runChild('curl', ['-sS', '-o', out, '-w', '%{time_total} %{size_download}', url]).catch((err) => ({ code: -1, stderr: err.message }));
      if (r.code !== 0) {
        rows.push({ name, median_ms: null, ceiling: true, met: true, detail: `not measured: curl ${r.stderr.trim() || `exited ${r.code}`}` });
        continue;
      }
      const [secs, size] = r.stdout.trim().split(' ').map(Number);
      rows.push(row(name, secs * 1000, size, 'the fake server as fast as curl reads it'));
      rmSync(join(dir, 'curl.log'), { force: true });
    }
    const r = await runChild(process.execPath, ['-e', PLAIN_GET, url, join(dir, 'node.log')]);
    if (r.code !== 0) throw new Error(`plain node GET exited ${r.code}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    const ok = doc.bytes === bytes && (await hashFile(join(dir, 'node.log'))) === doc.sha256;
    rows.push(row('ceiling: node GET | sha256 > file', doc.ms, doc.bytes, `a plain node http GET piped to a file, hashed${ok ? '' : ', FILE DOES NOT MATCH'}`));
  } finally {
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const gib = (n) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`);

export async function evidence() {
  const rows = [...(await ceilingRows(LOG_BYTES))];
  for (const [label, pods, bytes] of [
    [`evidence collect 1 log × ${gib(LOG_BYTES)}`, 1, LOG_BYTES],
    [`evidence collect ${PODS} pods × ${gib(POD_BYTES)}`, PODS, POD_BYTES],
  ]) {
    rows.push(await collectCase(label, pods, bytes));
    if (compare) rows.push({ ...(await collectCase(`${label} (${compare})`, pods, bytes, compare)), compared: true });
  }
  return {
    benchmark: 'evidence',
    root,
    ...(compare ? { compare } : {}),
    targets: { mb_per_s: TARGET_MBPS, peak_rss_mib: TARGET_MIB },
    // Only this checkout's collections count; ceilings and the compared checkout are for reading.
    met: rows.filter((r) => !r.ceiling && !r.compared).every((r) => r.met),
    // The shape bench/run.js prints.
    rounds: 1,
    rows,
  };
}

export function printEvidence(r) {
  console.log(`# evidence: pod logs from the fake API server, streamed and sha256-hashed (${r.root})`);
  for (const row of r.rows) {
    console.log(`${row.name}`);
    if (row.ceiling) {
      console.log(row.median_ms === null ? `  ${row.detail}` : `  ${String(row.median_ms).padStart(7)} ms  ${row.detail}`);
      continue;
    }
    console.log(`  collector      ${String(row.collector_ms).padStart(7)} ms  ${row.collector_mb_per_s} MB/s  (target >= ${r.targets.mb_per_s} MB/s)`);
    console.log(`  whole command  ${String(row.wall_ms).padStart(7)} ms  ${row.wall_mb_per_s} MB/s  CPU ${row.cpu_s} s`);
    console.log(`  peak RSS       ${row.peak_rss_mib} MiB  (target <= ${r.targets.peak_rss_mib} MiB)`);
    console.log(`  sha256 and size match the files on disk: ${row.sha256_matches_disk}; ${row.met ? 'met' : 'MISSED'}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await evidence();
  if (process.env.BENCH_JSON) console.log(JSON.stringify(r, null, 2));
  else printEvidence(r);
}
