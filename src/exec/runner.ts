// The one place ir starts other programs: argv (or sh -c when a runbook asks), a timeout that kills
// the whole process group, output streamed to the screen and to a file at once, hashed as written,
// secrets masked before either sees them.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redactor } from './redact.js';

export interface RunSpec {
  /** argv[0] and its arguments; with `shell`, argv is ['/bin/sh', '-c', script]. */
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Where the combined output is saved (masked). */
  outputFile?: string;
  /** Values never to be shown or saved. */
  secrets?: string[];
  /** Live output, already masked. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting kills the process group (Ctrl-C while a step runs). */
  signal?: AbortSignal;
  /** How long after SIGTERM a still-running group gets SIGKILL. */
  graceMs?: number;
  /** Told the pid (also the process group) as soon as the program has started. */
  onSpawn?: (pid: number) => void;
}

export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** The program could not be started (not found, not executable). */
  spawnError?: string;
  durationMs: number;
  bytes: number;
  sha256: string;
  /** Masked combined output, up to the capture limit, for `expect` checks. */
  output: string;
  truncated: boolean;
  /**
   * The output could not be saved (a full disk): one line naming the file. The program was stopped,
   * and bytes/sha256 describe what is on disk, not what it printed.
   */
  saveError?: string;
}

const CAPTURE_LIMIT = 8 * 1024 * 1024;

export interface Runner {
  run(spec: RunSpec): Promise<RunOutcome>;
}

export const runner: Runner = { run: runCommand };

export async function runCommand(spec: RunSpec): Promise<RunOutcome> {
  const { execa } = await import('execa');
  const redactor = new Redactor(spec.secrets ?? []);
  const masks = { stdout: redactor.stream(), stderr: redactor.stream() };
  const hash = createHash('sha256');
  let bytes = 0;
  let output = '';
  let truncated = false;
  let file: ReturnType<typeof createWriteStream> | undefined;
  let saveError: string | undefined;
  if (spec.outputFile) {
    try {
      mkdirSync(dirname(spec.outputFile), { recursive: true, mode: 0o700 });
      // Opened before the program starts: a step whose output cannot be kept is not run at all.
      file = createWriteStream(spec.outputFile, { fd: openSync(spec.outputFile, 'w', 0o600) });
    } catch (err) {
      return notStarted(saveFailure(spec.outputFile, err));
    }
  }
  let terminate = () => {};
  file?.on('error', (err) => {
    if (saveError) return;
    saveError = saveFailure(spec.outputFile!, err);
    // Output that cannot be kept is output nobody can review later: stop the step rather than let
    // it run on unrecorded.
    terminate();
  });
  const emit = (text: string, stream: 'stdout' | 'stderr') => {
    if (!text) return;
    const buf = Buffer.from(text, 'utf8');
    bytes += buf.length;
    hash.update(buf);
    if (!saveError) file?.write(buf);
    if (output.length < CAPTURE_LIMIT) output += text;
    else truncated = true;
    spec.onOutput?.(text, stream);
  };

  // Told to stop before it started (a signal, or stdout closed while the step was announced).
  if (spec.signal?.aborted) {
    file?.destroy();
    return { ...notStarted(undefined), aborted: true };
  }
  const started = Date.now();
  let timedOut = false;
  let aborted = false;
  const child = execa(spec.argv[0], spec.argv.slice(1), {
    env: spec.env,
    extendEnv: true,
    cwd: spec.cwd,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    // Its own process group, so a timeout can take down pipelines and grandchildren too.
    detached: true,
    cleanup: true,
    windowsHide: true,
  });
  const killGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  if (child.pid !== undefined) spec.onSpawn?.(child.pid);
  let killTimer: NodeJS.Timeout | undefined;
  terminate = () => {
    if (killTimer) return;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), spec.graceMs ?? 2000);
    killTimer.unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    terminate();
  }, spec.timeoutMs);
  const onAbort = () => {
    aborted = true;
    terminate();
  };
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.signal?.aborted) onAbort();

  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => emit(masks.stdout.push(d), 'stdout'));
  child.stderr?.on('data', (d: string) => emit(masks.stderr.push(d), 'stderr'));

  const result = await child;
  clearTimeout(timer);
  spec.signal?.removeEventListener('abort', onAbort);
  // The group may outlive its leader (a backgrounded grandchild); make sure nothing is left running.
  if (timedOut || aborted || saveError) killGroup('SIGKILL');
  if (killTimer) clearTimeout(killTimer);
  emit(masks.stdout.flush(), 'stdout');
  emit(masks.stderr.flush(), 'stderr');
  if (file) {
    await new Promise<void>((res) =>
      file!.end((err?: Error | null) => {
        if (err && !saveError) saveError = saveFailure(spec.outputFile!, err);
        res();
      }),
    );
  }
  let saved = { bytes, sha256: hash.digest('hex') };
  // Part of a chunk may have reached the disk before it filled: describe the file as it is.
  if (saveError && spec.outputFile) saved = await hashFile(spec.outputFile);

  const r = result as unknown as { exitCode?: number; signal?: string; failed: boolean; code?: string; originalMessage?: string; shortMessage?: string };
  const spawnFailed = r.exitCode === undefined && !r.signal && r.failed;
  return {
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    timedOut,
    aborted,
    spawnError: spawnFailed ? redactor.mask(r.code === 'ENOENT' ? `${spec.argv[0]}: command not found` : r.originalMessage ?? r.shortMessage ?? 'could not start') : undefined,
    durationMs: Date.now() - started,
    bytes: saved.bytes,
    sha256: saved.sha256,
    output,
    truncated,
    ...(saveError ? { saveError } : {}),
  };
}

/** One line for a failed save; a full disk says so in words a tired responder reads at once. */
function saveFailure(file: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC') return `disk full writing ${file}: no space left on device`;
  if (e.code === 'EDQUOT') return `disk quota exceeded writing ${file}`;
  return `could not write ${file}: ${e.code ?? e.message}`;
}

function notStarted(saveError: string | undefined): RunOutcome {
  return { exitCode: null, signal: null, timedOut: false, aborted: false, durationMs: 0, bytes: 0, sha256: createHash('sha256').digest('hex'), output: '', truncated: false, ...(saveError ? { saveError } : {}) };
}

/** sha256 and size of a file as it is on disk; an unreadable rest counts as not there. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      bytes += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
  } catch {
    /* unreadable: what was read so far is what can be vouched for */
  }
  return { bytes, sha256: hash.digest('hex') };
}
