// Whatever ends `ir evidence collect` early — SIGINT, SIGTERM, SIGHUP, or the pipe it writes to
// closing — ends the process groups of its collectors (no orphan under PID 1), keeps and hashes
// what they wrote, and records the collection as partial with the reason.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';

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
  // Every ir spawned and every marker used: whatever a failing run left behind is ended by pid.
  const children: ChildProcess[] = [];
  const markers: string[] = [];
  const homes: (() => void)[] = [];

  beforeAll(() => {
    team = mkdtempSync(join(tmpdir(), 'ir-team-'));
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
  afterAll(() => {
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
    const child = spawn(process.execPath, [BIN, '--runbooks', dir, 'evidence', 'collect', '--concurrency', '3'], {
      env: irEnv(home, { KUBECONFIG: undefined, HOME: home }),
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
        const onDisk = c ? join(home, 'incidents', incident, 'evidence', c.id, 'hang.txt') : '';
        return !!c && c.file_list.some((f) => f.collector === 'quick') && marked(marker).length >= 2 && existsSync(onDisk) && statSync(onDisk).size > 0;
      });
      expect(list()!.state).toBe('running');
    };
    return { home, incident, marker, child, exited, list, running, go, out: () => ({ stdout, stderr }) };
  }

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('%s: no marked process survives, the collection is recorded partial (interrupted), exit %i', async (sig, exit) => {
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
    expect(c.file_list.find((f) => f.collector === 'waits')).toMatchObject({ status: 'ok' });
    expect(c.file_list.find((f) => f.collector === 'hang')).toMatchObject({ status: 'failed', reason: 'interrupted: stderr closed (EPIPE); partial output kept' });
  });
});
