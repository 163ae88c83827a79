// Whatever ends `ir evidence collect` early — SIGINT, SIGTERM, SIGHUP, or the pipe it writes to
// closing — ends the process groups of its collectors (no orphan under PID 1) and its Kubernetes
// streams (a kubelet gone silent, from the fake API server), keeps and hashes what they wrote, and
// records the collection as partial with the reason.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ListJson {
  collections: {
    id: string;
    state: string;
    interrupted: string | null;
    unfinished: string[];
    file_list: { collector: string; file: string | null; status: string; bytes: number; sha256: string | null; reason?: string }[];
  }[];
}

/** Pids whose command line holds the marker: the collector's shell and its backgrounded sleep. */
function marked(marker: string): number[] {
  const r = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

describe('evidence collect ended by a signal or a closed pipe', () => {
  let team: string;
  let kube: FakeKube;
  // Every ir spawned and every marker used: whatever a failing run left behind is ended by pid.
  const children: ChildProcess[] = [];
  const markers: string[] = [];
  const homes: (() => void)[] = [];

  beforeAll(async () => {
    team = mkdtempSync(join(tmpdir(), 'ir-team-'));
    // A kubelet that sends the first lines of a log, then goes silent with the stream open.
    const pod = {
      metadata: { name: 'api-0', namespace: 'shop', uid: 'u', resourceVersion: '1', labels: { app: 'api' } },
      spec: { containers: [{ name: 'api', image: 'api:1' }] },
      status: { containerStatuses: [{ name: 'api', restartCount: 0 }] },
    };
    const now = Date.now();
    const lines = Array.from({ length: 20 }, (_, i) => ({ ts: new Date(now - (20 - i) * 1000).toISOString(), text: `GET /orders 200 #${i}` }));
    kube = await startFakeKube({ namespace: 'shop', pods: [pod], logs: { 'shop/api-0/api': { lines, hangAfter: 200 } } });
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const pid of markers.splice(0).flatMap(marked)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone, as it should be */
      }
    }
  });
  afterAll(async () => {
    await kube?.stop();
    rmSync(team, { recursive: true, force: true });
    for (const c of homes) c();
  });

  /** A team evidence.yaml: one quick collector, one that waits for `go`, one that hangs with a marked sleep. */
  function setup(name: string) {
    const { home, cleanup } = tempHome();
    homes.push(cleanup);
    const marker = `0.${randomInt(1e8, 1e9)}${randomInt(1e8, 1e9)}`;
    markers.push(marker);
    const dir = join(team, name);
    spawnSync('mkdir', ['-p', dir]);
    const go = join(dir, 'go');
    writeFileSync(
      join(dir, 'evidence.yaml'),
      [
        'collectors:',
        '  - name: quick',
        '    command: [echo, finished before the signal]',
        '  - name: waits',
        '    shell: true',
        `    command: "while [ ! -e '${go}' ]; do sleep 0.05; done; echo went"`,
        '  - name: hang',
        '    timeout: 600s',
        '    shell: true',
        // A backgrounded grandchild too: only ending the whole process group stops it.
        `    command: "echo started; sleep 900 ${marker} & sleep 900 ${marker}; wait"`,
        '',
      ].join('\n'),
    );
    const incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', `interrupted by ${name}`, '-s', 'SEV-2'])).id;
    const child = spawn(process.execPath, [BIN, '--runbooks', dir, 'evidence', 'collect', '--concurrency', '4'], {
      env: irEnv(home, { KUBECONFIG: kube.kubeconfigPath, HOME: home }),
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const list = () => {
      const r = ir(home, ['evidence', 'list', '--json']);
      return r.code === 0 ? json<ListJson>(r).collections[0] : undefined;
    };
    /** Until quick is recorded and the hanging collector's sleeps run and its first line is on disk. */
    const running = async () => {
      await until(`the collection to get going (${stderr})`, () => {
        const c = list();
        const has = (file: string) => {
          const p = c ? join(home, 'incidents', incident, 'evidence', c.id, file) : '';
          return existsSync(p) && statSync(p).size > 0;
        };
        return !!c && c.file_list.some((f) => f.collector === 'quick') && marked(marker).length >= 2 && has('hang.txt') && has('k8s-logs/api-0/api.log');
      });
      expect(list()!.state).toBe('running');
    };
    return { home, incident, marker, child, exited, list, running, go, out: () => ({ stdout, stderr }) };
  }

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('%s: no marked process survives, the Kubernetes stream is aborted, what was written is hashed, the collection is recorded partial (interrupted), exit %i', async (sig, exit) => {
    const run = setup(sig);
    await run.running();
    run.child.kill(sig);
    const { code } = await run.exited;
    expect(code, run.out().stderr).toBe(exit);
    // Signals were sent before ir exited; give the kernel a moment to reap, then nothing may remain.
    await until('the marked processes to end', () => marked(run.marker).length === 0, 10_000).catch(() => undefined);
    expect(marked(run.marker)).toEqual([]);
    expect(run.out().stderr).toContain(`ir: collection interrupted by ${sig}; EV-`);
    expect(run.out().stderr).not.toMatch(/^\s+at /m);

    const c = run.list()!;
    expect(c.state).toBe('partial');
    expect(c.interrupted).toBe(`interrupted by ${sig}`);
    expect(c.unfinished).toEqual([]);
    const hang = c.file_list.find((f) => f.collector === 'hang')!;
    expect(hang).toMatchObject({ status: 'failed', reason: `interrupted by ${sig}; partial output kept` });
    const path = join(run.home, 'incidents', run.incident, hang.file!);
    expect(readFileSync(path, 'utf8')).toBe('started\n');
    expect(hang.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(c.file_list.find((f) => f.collector === 'quick')).toMatchObject({ status: 'ok' });
    // The Kubernetes stream was aborted: its first lines kept, hashed, the file marked interrupted.
    const log = c.file_list.find((f) => f.collector === 'k8s-logs')!;
    expect(log).toMatchObject({ status: 'failed', reason: `interrupted by ${sig}; partial output kept` });
    const logPath = join(run.home, 'incidents', run.incident, log.file!);
    expect(readFileSync(logPath, 'utf8')).toMatch(/^\S+ GET \/orders 200 #0\n/);
    expect(log.sha256).toBe(createHash('sha256').update(readFileSync(logPath)).digest('hex'));
    expect(log.bytes).toBe(statSync(logPath).size);
    // The one that never got its go was interrupted too, not left open.
    expect(c.file_list.find((f) => f.collector === 'waits')).toMatchObject({ status: 'failed' });
    const verify = ir(run.home, ['evidence', 'verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(ir(run.home, ['timeline', '--verify']).code).toBe(0);
  });

  it('a closed output pipe (EPIPE) interrupts the same way: no orphan, partial, exit 141', async () => {
    const run = setup('epipe');
    await run.running();
    // Close our end of ir's stderr, then let `waits` finish: its progress line meets a closed pipe.
    run.child.stderr.destroy();
    writeFileSync(run.go, '');
    const { code } = await run.exited;
    expect(code).toBe(141);
    await until('the marked processes to end', () => marked(run.marker).length === 0, 10_000).catch(() => undefined);
    expect(marked(run.marker)).toEqual([]);
    const c = run.list()!;
    expect(c.state).toBe('partial');
    expect(c.interrupted).toBe('interrupted: stderr closed (EPIPE)');
    // Whichever line meets the closed pipe first ends the collection: `waits`' own, or (on a loaded
    // machine) a slower Kubernetes collector's. Either way `waits` is recorded, never left running.
    const waits = c.file_list.find((f) => f.collector === 'waits');
    if (waits?.status !== 'ok') expect(waits).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^interrupted: stderr closed \(EPIPE\)/) });
    expect(c.file_list.find((f) => f.collector === 'hang')).toMatchObject({ status: 'failed', reason: 'interrupted: stderr closed (EPIPE); partial output kept' });
  });
});
