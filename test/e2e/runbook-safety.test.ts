// The runbook runner when the world around it fails: ir killed with SIGKILL while a step runs (the
// step's process lives on), stdout closed by the reader (`| head -1`), and a full disk while a
// step's output is saved. Each case spawns the real bin/ir.js and inspects the record it left.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';
import { haveTmux, terminalSuite } from '../helpers/tty.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');
const rb = ['--runbooks', FIXTURES];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Event {
  type: string;
  data: Record<string, unknown>;
}
const events = (home: string, id: string) => json<{ events: Event[] }>(ir(home, ['timeline', id, '--json'])).events;
const steps = (home: string, id: string) => events(home, id).filter((e) => e.type === 'runbook.step').map((e) => e.data);
const declare = (home: string, title: string) => json<{ id: string }>(ir(home, ['declare', '--json', '-t', title, '-s', 'SEV-2'])).id;
const sql = (home: string, query: string) => execFileSync('sqlite3', [join(home, 'ir.db'), query], { encoding: 'utf8' }).trim();
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Live (not zombie) processes whose command line contains marker, leaving out those whose parent
 * carries it too: a shell's child between fork and exec shows its parent's command line, and is
 * not a second copy of anything.
 */
function processesWith(marker: string): number[] {
  const found = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (/^[ZX]$/.test(fields[0])) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) found.set(Number(name), Number(fields[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  return [...found].filter(([, ppid]) => !found.has(ppid)).map(([pid]) => pid);
}

async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Starts `ir runbook long-step --yes` and SIGKILLs it once its long step is running: the step's
 * process (a shell waiting for <dir>/go) lives on as an orphan. Returns the orphan's pid.
 */
async function killIrDuringLongStep(home: string, id: string, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [BIN, 'runbook', 'long-step', '--yes', '--var', `dir=${dir}`, '--incident', id, ...rb], { env: irEnv(home), stdio: 'ignore' });
  const closed = new Promise((r) => child.once('close', r));
  await until('the long step to start', () => existsSync(join(dir, 'started')));
  // And ir to have saved the step's first line: the kill then falls after something was saved, which
  // the tests check is kept (ir reads the pipe and writes the file on its own turns, a few ms later).
  await until('ir to save the first line', () => savedHolding(join(home, 'incidents', id), 'long-started'));
  child.kill('SIGKILL');
  await closed;
  const orphans = processesWith(dir);
  expect(orphans).toHaveLength(1);
  return orphans[0];
}

/** Whether a file under `dir` (the incident's directory, where step output is saved) holds `text`. */
function savedHolding(dir: string, text: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile() && readFileSync(join(e.parentPath ?? e.path, e.name), 'utf8').includes(text));
}

/** Ends whatever still carries one of the markers (a failing run may have left a step behind). */
function killMarked(markers: string[]): void {
  for (const m of markers) {
    for (const pid of processesWith(m)) {
      killGroup(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

describe('kill -9 of ir while a step runs: the step is never run twice', () => {
  let home: string;
  let cleanup: () => void;
  const orphans: number[] = [];
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => {
    for (const pid of orphans) killGroup(pid);
    // Steps a failing test did not get to count (every scratch directory is under the home).
    killMarked([home]);
    cleanup();
  });

  it('--resume and a new run refuse (exit 1, naming the pid and --wait) while the orphan runs; once it is gone, resume runs the step again', async () => {
    const id = declare(home, 'orphan refused');
    const dir = join(home, 'refuse');
    const marker = join(dir, 'go');
    const pid = await killIrDuringLongStep(home, id, dir);
    orphans.push(pid);

    // The run recorded the step's process when it started: pid, start time, host.
    const row = sql(home, `SELECT status, current_index, step_pid, step_start_ticks > 0, step_started_at, step_host FROM runbook_runs WHERE incident_id = '${id}'`).split('|');
    expect(row.slice(0, 4)).toEqual(['running', '1', String(pid), '1']);
    expect(row[4]).toMatch(/^\d{4}-\d\d-\d\dT/);

    const resumed = ir(home, ['runbook', 'long-step', '--resume', '--yes', '--incident', id, ...rb]);
    expect(resumed.code, resumed.stderr).toBe(1);
    const lines = resumed.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`step "long" of run RUN-\\S+ is still running outside ir: pid ${pid} \\(echo long-started.*\\), since \\d{4}-.*--resume --wait`));
    expect(processesWith(dir)).toEqual([pid]);

    const fresh = ir(home, ['runbook', 'long-step', '--yes', '--var', `dir=${dir}`, '--incident', id, ...rb]);
    expect(fresh.code, fresh.stderr).toBe(1);
    expect(fresh.stderr).toMatch(new RegExp(`still running outside ir: pid ${pid}`));
    expect(processesWith(dir)).toEqual([pid]);
    // Refusing recorded nothing: no second run, no step, the chain still verifies.
    expect(sql(home, `SELECT count(*) FROM runbook_runs WHERE incident_id = '${id}'`)).toBe('1');
    expect(steps(home, id).map((s) => s.step)).toEqual(['first']);

    killGroup(pid);
    await until('the orphan to end', () => processesWith(dir).length === 0);
    writeFileSync(marker, 'go');
    const after = ir(home, ['runbook', 'long-step', '--resume', '--yes', '--incident', id, ...rb]);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stderr).toMatch(/Resuming RUN-\S+ at step 2 of 3 \(long\)/);
    expect(steps(home, id).map((s) => [s.step, s.outcome])).toEqual([
      ['first', 'ok'],
      ['long', 'ok'],
      ['last', 'ok'],
    ]);
    expect(events(home, id).find((e) => e.type === 'runbook.interrupted')?.data).toMatchObject({ step: 'long', detected: 'on resume' });
    expect(ir(home, ['timeline', id, '--verify']).code).toBe(0);
  });

  it('--resume --wait waits for the orphan, records the step as finished outside ir (exit unknown, saved output hashed) and goes on', async () => {
    const id = declare(home, 'orphan waited for');
    const dir = join(home, 'wait');
    const marker = join(dir, 'go');
    const pid = await killIrDuringLongStep(home, id, dir);
    orphans.push(pid);

    const waiting = spawn(process.execPath, [BIN, 'runbook', 'long-step', '--resume', '--wait', '--yes', '--incident', id, ...rb], { env: irEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    waiting.stderr.on('data', (d) => (stderr += d));
    waiting.stdout.on('data', (d) => (stdout += d));
    const code = new Promise<number | null>((r) => waiting.once('close', r));
    await until('ir to say it waits', () => /waiting for it to end/.test(stderr));
    // While it waits, there is still exactly one copy of the step.
    expect(processesWith(dir)).toEqual([pid]);
    expect(stderr).toMatch(new RegExp(`pid ${pid} .*since \\d{4}-`));
    writeFileSync(marker, 'go');
    expect(await code, stdout + stderr).toBe(0);
    expect(stderr).toMatch(new RegExp(`pid ${pid} has ended; step "long" recorded as finished outside ir \\(exit status unknown\\)`));

    const all = steps(home, id);
    expect(all.map((s) => [s.step, s.outcome])).toEqual([
      ['first', 'ok'],
      ['long', 'unknown'],
      ['last', 'ok'],
    ]);
    const long = all[1];
    expect(long).toMatchObject({ exit_code: null, pid });
    // What ir saved before it died is kept, and the record hashes it as it is on disk.
    expect(readFileSync(String(long.output_file), 'utf8')).toContain('long-started');
    expect(long.sha256).toBe(sha256(String(long.output_file)));
    // The step's own "long-done" went to a pipe nobody read: it was never run a second time.
    expect(stdout).not.toContain('long-done');
    expect(ir(home, ['timeline', id, '--verify']).code).toBe(0);
  });

  it('a pid reused by another process (other start time) is not mistaken for the step', async () => {
    const id = declare(home, 'pid reused');
    const dir = join(home, 'reused');
    const marker = join(dir, 'go');
    const pid = await killIrDuringLongStep(home, id, dir);
    orphans.push(pid);
    killGroup(pid);
    await until('the orphan to end', () => processesWith(dir).length === 0);
    // A live, unrelated process now answers to the recorded pid; its start time differs.
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
    orphans.push(stranger.pid!);
    sql(home, `UPDATE runbook_runs SET step_pid = ${stranger.pid} WHERE incident_id = '${id}'`);
    writeFileSync(marker, 'go');
    const r = ir(home, ['runbook', 'long-step', '--resume', '--yes', '--incident', id, ...rb]);
    expect(r.code, r.stderr).toBe(0);
    expect(steps(home, id).map((s) => s.outcome)).toEqual(['ok', 'ok', 'ok']);
    stranger.kill('SIGKILL');
  });
});

describe.skipIf(!haveTmux())('kill -9 of ir while a step runs, resumed at a terminal', () => {
  const term = terminalSuite();
  const orphans: number[] = [];
  afterAll(() => {
    orphans.forEach(killGroup);
    killMarked([join(term.home, 'tty')]);
  });

  it('offers to wait or stop; stop exits 130 and starts nothing; wait records the step and goes on', async () => {
    const id = declare(term.home, 'orphan at a terminal');
    const dir = join(term.home, 'tty');
    const marker = join(dir, 'go');
    const pid = await killIrDuringLongStep(term.home, id, dir);
    orphans.push(pid);

    let session = term.open(['runbook', 'long-step', '--resume', '--incident', id, ...rb]);
    await session.waitFor(new RegExp(`still running outside ir: pid ${pid}[\\s\\S]*Wait for it to end[\\s\\S]*Stop here`));
    session.keys('Down', 'Enter');
    expect(await session.exitCode()).toBe(130);
    expect(processesWith(dir)).toEqual([pid]);

    session = term.open(['runbook', 'long-step', '--resume', '--incident', id, ...rb]);
    await session.waitFor(/Wait for it to end/);
    session.keys('Enter');
    await session.waitFor(/waiting for it to end/);
    expect(processesWith(dir)).toEqual([pid]);
    writeFileSync(marker, 'go');
    await session.waitFor(/recorded as finished outside ir[\s\S]*last:/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(steps(term.home, id).map((s) => [s.step, s.outcome])).toEqual([
      ['first', 'ok'],
      ['long', 'unknown'],
      ['last', 'ok'],
    ]);
  });
});

describe('SIGTERM or SIGHUP to ir while a step runs', () => {
  let home: string;
  let cleanup: () => void;
  const dirs: string[] = [];
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => {
    killMarked(dirs);
    cleanup();
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s: the step\'s process group ends with ir, the step and the interruption are recorded, resume offers the step again', async (signal) => {
    const id = declare(home, `signal ${signal}`);
    const dir = join(home, `sig-${signal}`);
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    const child = spawn(process.execPath, [BIN, 'runbook', 'long-step', '--yes', '--var', `dir=${dir}`, '--incident', id, ...rb], { env: irEnv(home), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    await until('the long step to start', () => existsSync(join(dir, 'started')));
    child.kill(signal);
    const code = await closed;
    expect(code, stderr).not.toBe(0);
    expect(stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    // Nothing of the step is left running under PID 1.
    await until('the step to be gone', () => processesWith(dir).length === 0, 10_000);
    const interrupted = events(home, id).filter((e) => e.type === 'runbook.interrupted');
    expect(interrupted).toEqual([expect.objectContaining({ data: expect.objectContaining({ step: 'long' }) })]);
    expect(sql(home, `SELECT status FROM runbook_runs WHERE incident_id = '${id}'`)).toBe('interrupted');
    writeFileSync(join(dir, 'go'), '');
    const resumed = ir(home, ['runbook', 'long-step', '--resume', '--yes', '--incident', id, ...rb]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/long-done/);
  });
});

describe('a closed stdout (ir runbook … --yes | head -1)', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => {
    killMarked([`3000.${process.pid}1`, `3000.${process.pid}2`]);
    cleanup();
  });

  /** Runs `script` with bash; returns its output and the exit status ir had inside the pipeline. */
  function pipeline(script: string): { irStatus: number; stdout: string; stderr: string } {
    const r = spawnSync('bash', ['-c', `${script}; echo "ir-status=\${PIPESTATUS[0]}" >&2`], { env: irEnv(home), cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const m = /ir-status=(\d+)/.exec(r.stderr);
    return { irStatus: m ? Number(m[1]) : -1, stdout: r.stdout, stderr: r.stderr.replace(/ir-status=\d+\n/, '') };
  }
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

  it('the step in flight is stopped (its group killed), recorded with its saved output; the run is interrupted ("stdout closed"); exit 141', () => {
    const id = declare(home, 'epipe in a step');
    const dir = join(home, 'in-step');
    mkdirSync(dir);
    // The reader takes one line, stays until the step has started, then goes: the step's output
    // (far more than a pipe holds) then meets a closed pipe. The step ends in a marked sleep that
    // only survives if ir fails to kill the step's process group.
    const tail = `3000.${process.pid}1`;
    const ir_ = `${q(process.execPath)} ${q(BIN)} runbook closed-pipe --yes --var dir=${q(dir)} --var secs=${q(tail)} --incident ${id} --runbooks ${q(FIXTURES)}`;
    const r = pipeline(`${ir_} | (head -1; while [ ! -f ${q(join(dir, 'started'))} ]; do sleep 0.05; done; touch ${q(join(dir, 'closed'))})`);
    expect(r.irStatus, r.stderr).toBe(141);
    expect(r.stdout).toMatch(/^Closed pipe/);
    expect(r.stderr).toMatch(/ir: stdout closed: run RUN-\S+ interrupted at step "talk"/);
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    expect(processesWith(tail)).toEqual([]);

    const all = events(home, id);
    const step = all.find((e) => e.type === 'runbook.step')!.data;
    expect(step).toMatchObject({ step: 'talk', outcome: 'interrupted' });
    expect(Number(step.bytes)).toBeGreaterThan(0);
    expect(step.sha256).toBe(sha256(String(step.output_file)));
    expect(all.at(-1)).toMatchObject({ type: 'runbook.interrupted', data: { step: 'talk', reason: 'stdout closed while the step ran' } });
    expect(sql(home, `SELECT status, next_index, step_pid IS NULL FROM runbook_runs WHERE incident_id = '${id}'`)).toBe('interrupted|0|1');
    expect(ir(home, ['timeline', id, '--verify']).code).toBe(0);
  });

  it('plain `| head -1`: exit 141, the run recorded as interrupted wherever the pipe closed, nothing left running', () => {
    const id = declare(home, 'epipe plain');
    const dir = join(home, 'plain');
    mkdirSync(dir);
    writeFileSync(join(dir, 'closed'), '');
    const tail = `3000.${process.pid}2`;
    const r = pipeline(`${q(process.execPath)} ${q(BIN)} runbook closed-pipe --yes --var dir=${q(dir)} --var secs=${q(tail)} --incident ${id} --runbooks ${q(FIXTURES)} | head -1`);
    expect(r.irStatus, r.stderr).toBe(141);
    expect(r.stderr).toMatch(/ir: stdout closed: run RUN-\S+ interrupted/);
    expect(processesWith(tail)).toEqual([]);
    expect(sql(home, `SELECT status FROM runbook_runs WHERE incident_id = '${id}'`)).toBe('interrupted');
    const last = events(home, id).at(-1)!;
    expect(last.type).toBe('runbook.interrupted');
    expect(String(last.data.reason)).toMatch(/^stdout closed/);
  });

  it('other commands end quietly: `ir timeline | head -1` exits 0 with nothing on stderr', () => {
    const id = declare(home, 'quiet');
    // Far more than a pipe holds, so ir is still writing when head has gone.
    for (let i = 0; i < 3; i++) expect(ir(home, ['note', `note ${i} ${'x'.repeat(100_000)}`, '--incident', id]).code).toBe(0);
    const r = pipeline(`${q(process.execPath)} ${q(BIN)} timeline ${id} | head -1`);
    expect(r.irStatus).toBe(0);
    expect(r.stdout).toMatch(/TIME/);
    expect(r.stderr).toBe('');
  });
});

/** Mounts a tmpfs of `size` at dir; false (with why) when this machine will not let us. */
function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `mount failed: ${r.stderr.trim() || r.error?.message}`;
}

const canMount = (() => {
  const { home, cleanup } = tempHome('ir-mount-probe-');
  try {
    const why = mountTmpfs(join(home, 'm'), '64k');
    if (!why) spawnSync('umount', [join(home, 'm')]);
    return why;
  } finally {
    cleanup();
  }
})();

describe.skipIf(canMount !== undefined)(`a full disk while a step's output is saved${canMount ? ` (skipped: ${canMount})` : ''}`, () => {
  let home: string;
  let cleanup: () => void;
  const mounts: string[] = [];
  beforeAll(() => ({ home, cleanup } = tempHome()));
  const unmount = () => {
    while (mounts.length) spawnSync('umount', ['-l', mounts.pop()!]);
  };
  afterEach(unmount);
  afterAll(() => {
    killMarked([`3000.${process.pid}3`, `3000.${process.pid}4`]);
    unmount();
    cleanup();
  });

  it('one line naming the file; what was written is kept and hashed; the step recorded with the error; the run interrupted, exit 1', () => {
    const id = declare(home, 'disk full');
    // Only the runbook outputs are on the small disk; ir.db is on the normal one, so the record fits.
    const outputs = join(home, 'incidents', id, 'runbooks');
    expect(mountTmpfs(outputs, '256k')).toBeUndefined();
    mounts.push(outputs);
    const tail = `3000.${process.pid}3`;
    const run = spawnSync(process.execPath, [BIN, 'runbook', 'big-output', '--yes', '--var', `secs=${tail}`, '--incident', id, ...rb], { env: irEnv(home), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    const r = { code: run.status, stderr: run.stderr };
    expect(r.code, r.stderr).toBe(1);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('ir: '));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(new RegExp(`^ir: disk full writing ${outputs}/RUN-\\S+/01-flood\\.log: no space left on device; run RUN-\\S+ interrupted at step "flood"`));
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    // The step was stopped: its marked tail never outlives the failure.
    expect(processesWith(tail)).toEqual([]);

    const step = steps(home, id)[0];
    expect(step).toMatchObject({ step: 'flood', outcome: 'failed' });
    expect(String(step.save_error)).toMatch(/^disk full writing .*01-flood\.log/);
    const file = String(step.output_file);
    expect(Number(step.bytes)).toBeGreaterThan(100_000);
    expect(step.bytes).toBe(readFileSync(file).length);
    expect(step.sha256).toBe(sha256(file));
    const last = events(home, id).at(-1)!;
    expect(last).toMatchObject({ type: 'runbook.interrupted', data: { step: 'flood' } });
    expect(String(last.data.reason)).toMatch(/^disk full writing/);
    expect(sql(home, `SELECT status, next_index FROM runbook_runs WHERE incident_id = '${id}'`)).toBe('interrupted|0');
    expect(ir(home, ['timeline', id, '--verify']).code).toBe(0);
  });

  it('with ir.db on the same full disk, the record still fits (the reserve beside ir.db is given back): step, interruption, run state', () => {
    const whole = join(home, 'whole');
    expect(mountTmpfs(whole, '2m')).toBeUndefined();
    mounts.push(whole);
    const id = declare(whole, 'everything full');
    const tail = `3000.${process.pid}4`;
    const run = spawnSync(process.execPath, [BIN, 'runbook', 'big-output', '--yes', '--var', `secs=${tail}`, '--incident', id, ...rb], { env: irEnv(whole), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^ir: disk full writing .*01-flood\.log: no space left on device; run RUN-\S+ interrupted at step "flood"/m);
    expect(run.stderr).not.toMatch(/internal error|database or disk is full|\n\s+at /);
    expect(processesWith(tail)).toEqual([]);
    const step = steps(whole, id)[0];
    expect(step).toMatchObject({ step: 'flood', outcome: 'failed' });
    expect(step.sha256).toBe(sha256(String(step.output_file)));
    expect(events(whole, id).at(-1)).toMatchObject({ type: 'runbook.interrupted', data: { step: 'flood' } });
    expect(sql(whole, `SELECT status FROM runbook_runs WHERE incident_id = '${id}'`)).toBe('interrupted');
    expect(ir(whole, ['timeline', id, '--verify']).code).toBe(0);
  });
});
