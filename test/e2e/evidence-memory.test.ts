// Evidence collection in bounded memory: the built binary streaming eight pods' logs at once (the
// default concurrency) from the fake API server stays under the 150 MiB peak RSS of issue #14, and
// reads the kubeconfig without loading client-node's generated API clients. Memory, not time: the
// peak is the kernel's high-water mark of the ir process, whatever the machine's load.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';
import { loadedModulesAsync } from '../helpers/trace.js';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';

const PODS = 8;
const POD_BYTES = 32 * 1024 * 1024;

/** Runs ir to completion, sampling its VmHWM (peak resident set) from /proc until it exits. */
function irPeak(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; peakMiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: irEnv(home), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKiB = 0;
    const timer = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // exited between two samples
      }
    }, 10);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, peakMiB: peakKiB / 1024 });
    });
  });
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('evidence collect memory', () => {
  let home: string;
  let cleanup: () => void;
  let kube: FakeKube;
  const names = Array.from({ length: PODS }, (_, i) => `api-${i}`);

  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    kube = await startFakeKube({
      namespace: 'shop',
      pods: names.map((name) => ({
        metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '1', labels: { app: 'api' } },
        spec: { containers: [{ name: 'api', image: 'api:1' }] },
        status: { containerStatuses: [{ name: 'api', restartCount: 0 }] },
      })),
      logs: Object.fromEntries(names.map((n) => [`shop/${n}/api`, { generate: { bytes: POD_BYTES, lineBytes: 200 } }])),
    });
    expect(ir(home, ['declare', '-t', 'memory', '-s', 'SEV-4']).code).toBe(0);
  });
  afterAll(async () => {
    await kube?.stop();
    cleanup?.();
  });

  it('streams eight pods of logs at once under 150 MiB peak RSS, every file whole and its sha256 right', async () => {
    const r = await irPeak(home, ['evidence', 'collect', '--json', '--only', 'k8s-logs', '--kubeconfig', kube.kubeconfigPath, '--since', '1h']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ incident: string; files: { file: string; bytes: number; sha256: string; status: string }[] }>(r);
    expect(doc.files.map((f) => f.file.replace(/^.*k8s-logs\//, '')).sort()).toEqual(names.map((n) => `${n}/api.log`));
    for (const f of doc.files) {
      expect(f.status).toBe('ok');
      expect(f.bytes).toBe(POD_BYTES);
      expect(sha256(join(home, 'incidents', doc.incident, f.file))).toBe(f.sha256);
    }
    expect(r.peakMiB).toBeGreaterThan(0);
    expect(r.peakMiB).toBeLessThanOrEqual(150);
  });

  it('writes the pod logs around the page cache: a collected log is not left in memory', async (ctx) => {
    if (spawnSync('fincore', ['--version']).status !== 0) return ctx.skip('fincore(1) from util-linux is not installed');
    // On a memory file system the page cache is where the file lives, direct or not.
    const fsType = spawnSync('stat', ['-f', '-c', '%T', home], { encoding: 'utf8' }).stdout.trim();
    if (fsType === 'tmpfs' || fsType === 'ramfs') return ctx.skip(`${home} is on ${fsType}`);
    // A file system that refuses direct writes gets the cached fallback, which this test is not about.
    const dd = spawnSync('dd', ['if=/dev/zero', `of=${join(home, 'direct-probe')}`, 'bs=1M', 'count=1', 'oflag=direct'], { encoding: 'utf8' });
    spawnSync('rm', ['-f', join(home, 'direct-probe')]);
    if (dd.status !== 0) return ctx.skip(`${home} refuses an O_DIRECT write: ${dd.stderr.trim().split('\n')[0]}`);
    const r = await irPeak(home, ['evidence', 'collect', '--json', '--only', 'k8s-logs', '--kubeconfig', kube.kubeconfigPath, '--since', '1h']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ incident: string; files: { file: string; bytes: number }[] }>(r);
    const paths = doc.files.map((f) => join(home, 'incidents', doc.incident, f.file));
    const res = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', ...paths], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    // Each 32 MiB log is whole slots written with O_DIRECT; through the cache all 256 MiB would be resident.
    const resident = res.stdout.trim().split('\n').map(Number);
    expect(resident).toHaveLength(PODS);
    for (const n of resident) expect(n).toBeLessThan(1024 * 1024);
    for (const f of doc.files) expect(f.bytes).toBe(POD_BYTES);
  });

  it("reads the kubeconfig with client-node's KubeConfig, without its generated API clients", async () => {
    const urls = await loadedModulesAsync(home, ['evidence', 'collect', '--json', '--only', 'k8s-pods', '--kubeconfig', kube.kubeconfigPath]);
    const clientNode = urls.filter((u) => u.includes('/node_modules/@kubernetes/client-node/'));
    expect(clientNode.some((u) => u.endsWith('/client-node/dist/config.js'))).toBe(true);
    // The package index, the API classes and the ObjectParamAPI wrappers cost ≈60 MiB and 0.7 s.
    expect(clientNode.filter((u) => /\/client-node\/dist\/(index\.js|api\.js|gen\/(apis|types)\/)/.test(u))).toEqual([]);
  });
});
