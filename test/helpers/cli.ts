// Runs ir the way users do (the built bin/ir.js in a child process) or in-process with captured streams.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'ir.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary IR_HOME, removed by the returned cleanup. */
export function tempHome(prefix = 'ir-test-'): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** The environment a spawned ir sees: no CI-ish interference, a fixed actor, the given home. */
export function irEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['IR_INCIDENT', 'IR_RUNBOOKS', 'IR_DEBUG', 'FORCE_COLOR']) delete env[k];
  Object.assign(env, { IR_HOME: home, IR_USER: 'tester', NO_COLOR: '1' }, extra);
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

/** Spawns `node bin/ir.js args` synchronously with stdin closed. */
export function ir(home: string, args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: irEnv(home, opts.env),
    cwd: opts.cwd ?? ROOT,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: r.stdout, stderr: r.stderr };
}

/** Spawns ir asynchronously (this checkout's, or the bin/ir.js of `opts.root`); resolves when it exits. */
export function irAsync(home: string, args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; root?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const bin = opts.root ? join(opts.root, 'bin', 'ir.js') : BIN;
    const child = spawn(process.execPath, [bin, ...args], { env: irEnv(home, opts.env), cwd: opts.cwd ?? opts.root ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

/**
 * Spawns ir and closes its stdout as soon as the first output arrives, as `ir … | head -1` does;
 * resolves with that first output, the exit code and stderr.
 */
export async function irFirstOutput(home: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ first: string; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: irEnv(home, env), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { first, code, stderr };
}

/** Parses stdout as the one JSON document --json promises. */
export function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Runs SQL on a store file with the sqlite3 shell, as someone with the file (and no ir) would. */
export function sqlite(db: string, sql: string): string {
  return execFileSync('sqlite3', [db, sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
