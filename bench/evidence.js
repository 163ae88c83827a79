// Evidence benchmark: `ir evidence collect --only k8s-logs` streaming 1 GiB of pod logs from the
// fake API server to disk, hashing as it writes. Reports throughput (the log file's bytes over
// the collector's own start→finish time, and over the whole command) and the ir process's peak
// RSS (VmHWM, sampled from /proc). Targets: >= 150 MB/s including sha256, peak RSS <= 150 MiB.
// BENCH_LOG_BYTES overrides the size.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeKube } from '../test/fixtures/kube/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'ir.js');
const BYTES = Number(process.env.BENCH_LOG_BYTES ?? 1024 ** 3);

function runIr(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKiB = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 25);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakKiB });
    });
  });
}

const hashFile = (path) =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 }).on('data', (b) => h.update(b)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });

export async function evidence() {
  const home = mkdtempSync(join(tmpdir(), 'ir-bench-ev-'));
  const pod = {
    metadata: { name: 'api-0', namespace: 'bench', uid: 'u', resourceVersion: '1', labels: { app: 'api' } },
    spec: { containers: [{ name: 'api', image: 'api:1' }] },
    status: { containerStatuses: [{ name: 'api', restartCount: 0 }] },
  };
  const kube = await startFakeKube({ namespace: 'bench', pods: [pod], logs: { 'bench/api-0/api': { generate: { bytes: BYTES, lineBytes: 200 } } } });
  const env = { ...process.env, IR_HOME: home, IR_USER: 'bench', NO_COLOR: '1' };
  delete env.IR_INCIDENT;
  try {
    const declared = await runIr(['declare', '-t', 'bench', '-s', 'SEV-4'], env);
    if (declared.code !== 0) throw new Error(declared.stderr);
    const start = process.hrtime.bigint();
    const r = await runIr(['evidence', 'collect', '--json', '--only', 'k8s-logs', '--kubeconfig', kube.kubeconfigPath, '--since', '1h'], env);
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.code !== 0) throw new Error(`collect exited ${r.code}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    const f = doc.files.find((x) => x.file?.endsWith('api.log'));
    const collectorMs = Date.parse(f.finished_at) - Date.parse(f.started_at);
    const onDisk = await hashFile(join(home, 'incidents', doc.incident, f.file));
    const mbps = (ms) => Number((f.bytes / 1e6 / (ms / 1000)).toFixed(1));
    const peakMiB = Number((r.peakKiB / 1024).toFixed(1));
    return {
      benchmark: 'evidence',
      bytes: f.bytes,
      collector_ms: collectorMs,
      wall_ms: Math.round(wallMs),
      collector_mb_per_s: mbps(collectorMs),
      wall_mb_per_s: mbps(wallMs),
      peak_rss_mib: peakMiB,
      sha256_matches_disk: onDisk === f.sha256,
      targets: { mb_per_s: 150, peak_rss_mib: 150 },
      met: mbps(collectorMs) >= 150 && peakMiB <= 150 && onDisk === f.sha256 && f.bytes === BYTES,
      // The shape bench/run.js prints.
      rounds: 1,
      rows: [
        {
          name: `evidence collect ${(f.bytes / 1024 ** 3).toFixed(2)} GiB pod logs`,
          median_ms: collectorMs,
          detail: `${mbps(collectorMs)} MB/s with sha256 (target >= 150), peak RSS ${peakMiB} MiB (target <= 150), whole command ${Math.round(wallMs)} ms: ${mbps(collectorMs) >= 150 && peakMiB <= 150 ? 'met' : 'MISSED'}`,
        },
      ],
    };
  } finally {
    await kube.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

export function printEvidence(r) {
  console.log(`# evidence: ${(r.bytes / 1024 ** 3).toFixed(2)} GiB of pod logs from the fake API server, streamed and sha256-hashed`);
  console.log(`collector      ${String(r.collector_ms).padStart(7)} ms  ${r.collector_mb_per_s} MB/s  (target >= ${r.targets.mb_per_s} MB/s)`);
  console.log(`whole command  ${String(r.wall_ms).padStart(7)} ms  ${r.wall_mb_per_s} MB/s`);
  console.log(`peak RSS       ${r.peak_rss_mib} MiB  (target <= ${r.targets.peak_rss_mib} MiB)`);
  console.log(`sha256 matches the file on disk: ${r.sha256_matches_disk}; targets ${r.met ? 'met' : 'MISSED'}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await evidence();
  if (process.env.BENCH_JSON) console.log(JSON.stringify(r, null, 2));
  else printEvidence(r);
}
