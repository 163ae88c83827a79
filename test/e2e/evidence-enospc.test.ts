// A full disk during `ir evidence collect` (a real one: a small tmpfs mounted as root): one clear
// line, no stack trace, every collector either finished or recorded as failed, what reached the
// disk kept and hashed, nothing left `running`, exit 1 — with only the evidence directory on the
// full disk, and with the whole IR_HOME (database included) on it. Skipped, with the reason, when
// this is not root or tmpfs cannot be mounted.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, irAsync, json, tempHome } from '../helpers/cli.js';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';

interface CollectJson {
  collection_id: string;
  status: string;
  manifest: string | null;
  manifest_sha256: string | null;
  files: { collector: string; file: string | null; status: string; reason?: string; bytes: number; sha256: string | null }[];
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Mounts a tmpfs of `size` at dir; the reason it could not, if it could not. */
function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root: cannot mount a small tmpfs to fill';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
}

describe('evidence collect on a full disk', () => {
  let kube: FakeKube;
  let team: string;
  const mounts: string[] = [];
  const homes: (() => void)[] = [];

  beforeAll(async () => {
    const pod = {
      metadata: { name: 'api-0', namespace: 'shop', uid: 'u', resourceVersion: '1', labels: { app: 'api' } },
      spec: { containers: [{ name: 'api', image: 'api:1' }] },
      status: { containerStatuses: [{ name: 'api', restartCount: 0 }] },
    };
    // 6 MiB of log against a 2 MiB disk.
    kube = await startFakeKube({ namespace: 'shop', pods: [pod], logs: { 'shop/api-0/api': { generate: { bytes: 6 * 1024 * 1024, lineBytes: 200 } } } });
    team = mkdtempSync(join(tmpdir(), 'ir-team-'));
    writeFileSync(
      join(team, 'evidence.yaml'),
      [
        'collectors:',
        '  - name: quick',
        '    command: [echo, a few bytes]',
        '  - name: big',
        '    shell: true',
        `    command: "head -c 3000000 /dev/zero | tr '\\\\0' x"`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    // Always unmount, whatever happened, before the directories under the mounts are removed.
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    await kube?.stop();
    rmSync(team, { recursive: true, force: true });
    for (const c of homes) c();
  });

  /** Checks what the brief promises of a collection that ran out of disk. */
  function checkRecorded(
    home: string,
    incident: string,
    r: { code: number; stdout: string; stderr: string },
    line = /^ir: disk full \((ENOSPC|EDQUOT)\) writing evidence\/EV-[^;]+; \d of 4 collectors failed or did not start; what was written is kept and hashed, EV-\S+ recorded as partial$/,
    // With the store on the same disk, whichever write meets the full disk first (an evidence file, or
    // the store's own) stops the collection; the files cut short say which.
    cutShort = /disk full \(ENOSPC\) writing evidence\//,
  ) {
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/internal error/);
    const said = r.stderr.split('\n').filter((l) => l.startsWith('ir: '));
    expect(said, r.stderr).toHaveLength(1);
    expect(said[0]).toMatch(line);

    const doc = json<CollectJson>(r);
    expect(doc.status).toBe('partial');
    // Every collector has its record: finished, or failed with the reason; none abandoned.
    for (const name of ['k8s-pods', 'k8s-logs', 'quick', 'big']) expect(doc.files.some((f) => f.collector === name), name).toBe(true);
    const full = doc.files.filter((f) => cutShort.test(f.reason ?? ''));
    expect(full.length, JSON.stringify(doc.files, null, 1)).toBeGreaterThan(0);
    for (const f of full) expect(f.status).toBe('failed');
    // What reached the disk is kept, and its hash is the hash of exactly those bytes.
    for (const f of doc.files.filter((x) => x.file)) {
      const p = join(home, 'incidents', incident, f.file!);
      expect(existsSync(p), f.file!).toBe(true);
      expect(statSync(p).size, f.file!).toBe(f.bytes);
      expect(sha256(p), f.file!).toBe(f.sha256);
    }
    expect(full.some((f) => f.bytes > 0)).toBe(true);

    const db = new Database(join(home, 'ir.db'), { readonly: true });
    expect(db.prepare(`SELECT status FROM evidence_collections`).all()).toEqual([{ status: 'partial' }]);
    db.close();
    const list = json<{ collections: { state: string; unfinished: string[] }[] }>(ir(home, ['evidence', 'list', '--json']));
    expect(list.collections).toEqual([expect.objectContaining({ state: 'partial', unfinished: [] })]);
    const verify = ir(home, ['evidence', 'verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
  }

  it('with the evidence directory on a full tmpfs (the store on another disk): one line, all recorded, hashes match, exit 1', async ({ skip }) => {
    const { home, cleanup } = tempHome();
    homes.push(cleanup);
    const incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'disk full', '-s', 'SEV-2'])).id;
    const evidence = join(home, 'incidents', incident, 'evidence');
    mkdirSync(evidence, { recursive: true, mode: 0o700 });
    const why = mountTmpfs(evidence, '2m');
    if (why) return skip(why);
    mounts.push(evidence);
    const r = await irAsync(home, ['--runbooks', team, 'evidence', 'collect', '--json', '--kubeconfig', kube.kubeconfigPath, '--only', 'k8s-pods,k8s-logs,quick,big', '--concurrency', '2']);
    checkRecorded(home, incident, r);
  });

  it('with the whole IR_HOME on a full tmpfs: the reserve beside ir.db lets the end be recorded; nothing left running, exit 1', async ({ skip }) => {
    const root = mkdtempSync(join(tmpdir(), 'ir-full-home-'));
    homes.push(() => rmSync(root, { recursive: true, force: true }));
    const why = mountTmpfs(root, '6m');
    if (why) return skip(why);
    mounts.push(root);
    const home = join(root, 'home');
    const incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'disk full', '-s', 'SEV-2'])).id;
    const r = await irAsync(home, ['--runbooks', team, 'evidence', 'collect', '--json', '--kubeconfig', kube.kubeconfigPath, '--only', 'k8s-pods,k8s-logs,quick,big', '--concurrency', '2']);
    checkRecorded(home, incident, r, /^ir: (disk full \((ENOSPC|EDQUOT)\) writing evidence\/EV-[^;]+|the disk holding the store is full \(SQLITE_FULL\)); \d of 4 collectors failed or did not start; what was written is kept and hashed, EV-\S+ recorded as partial$/, /disk full \(ENOSPC\) writing evidence\/|the disk holding the store is full/);
    // The reserve was given back or removed: nothing of it is left in the home.
    expect(readdirSync(home).filter((n) => n.startsWith('.ir-reserve-'))).toEqual([]);
  });
});
