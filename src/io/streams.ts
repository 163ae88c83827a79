// The process's streams and environment as one value, so tests can run commands in-process.

import { writeSync } from 'node:fs';

export interface OutStream {
  write(chunk: string | Uint8Array): boolean;
  /** Resolves once the reader has taken what was written (a slow pipe); absent where writes never queue. */
  drained?(): Promise<void>;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
}

export interface IO {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * The process's own streams, each made on first use: Node builds process.stdout/stderr/stdin when
 * first read, and a pipe's costs a few milliseconds (it loads net and streams), a file's or a
 * terminal's about as much (Node's stream classes); `ir note` never reads stdin, and what it writes
 * goes to the descriptor as it is (see guarded).
 */
export function processIO(): IO {
  return {
    stdout: guarded(() => process.stdout, 'stdout', 1),
    stderr: guarded(() => process.stderr, 'stderr', 2),
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

type Which = 'stdout' | 'stderr';
const closed = new Set<Which>();
let takeover: ((which: Which, code: string) => void) | undefined;
const closedBy = new Map<Which, string>();

let watching = false;

/**
 * `ir … | head -1` closes the pipe early. By default that is the reader's choice and ir ends
 * quietly (exit 0, no trace). A command with a record to finish (a runbook run) takes over with
 * onOutputClosed and ends itself once the record is complete; writes to the closed stream are
 * dropped meanwhile, since every one of them would fail again.
 */
export function watchOutputPipes(): void {
  if (watching) return;
  watching = true;
  for (const which of ['stdout', 'stderr'] as const) {
    // Watched when Node makes it, by whoever first reads process[which]: making it here would
    // cost every command the stream it may never write to (see processIO).
    const made = Object.getOwnPropertyDescriptor(process, which);
    if (!made?.get || !made.configurable) {
      watch(process[which], which);
      continue;
    }
    const get = made.get;
    let watched = false;
    Object.defineProperty(process, which, {
      ...made,
      get() {
        const stream = get.call(process) as NodeJS.WriteStream;
        if (!watched) {
          watched = true;
          watch(stream, which);
        }
        return stream;
      },
    });
  }
}

/** EIO: the terminal went away (a closed SSH session) — the same loss of a reader as a pipe. */
const readerGone = (code: string | undefined) => code === 'EPIPE' || code === 'EIO' || code === 'ECONNRESET';

/** The streams Node has made (watch() sees each as it is made), by whatever code first asked for one. */
const madeStreams = new Set<Which>();

function watch(stream: NodeJS.WriteStream, which: Which): void {
  madeStreams.add(which);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!readerGone(err.code)) throw err;
    outputClosed(which, err.code as string);
  });
}

function outputClosed(which: Which, code: string): void {
  const first = !closed.has(which);
  closed.add(which);
  if (first) closedBy.set(which, code);
  if (!takeover) process.exit(0);
  if (first) takeover(which, code);
}

/** While registered, a closed stdout/stderr calls fn (once per stream) instead of ending ir; returns the release. */
export function onOutputClosed(fn: (which: Which, code: string) => void): () => void {
  // A stream that closed before the takeover began still has to be answered for.
  for (const which of closed) queueMicrotask(() => takeover === fn && fn(which, closedBy.get(which) ?? 'EPIPE'));
  takeover = fn;
  return () => {
    if (takeover === fn) takeover = undefined;
  };
}

/**
 * Writes go to the descriptor itself until something needs the stream (whether it is a terminal,
 * its width, a wait for a slow reader), then to the real stream (made then), until the reader has
 * gone. On Linux Node's stdout and stderr write synchronously to files, pipes and terminals alike,
 * so a write to the descriptor is what the stream would have done, without its classes. A pipe
 * that cannot take everything at once (a non-blocking one, full) gets the rest through the stream,
 * which queues it; from then on every write goes there, so nothing overtakes what it holds.
 */
function guarded(real: () => NodeJS.WriteStream, which: Which, fd: number): OutStream {
  let made: NodeJS.WriteStream | undefined;
  const stream = () => (made ??= real());
  let gone = false;
  const write = (chunk: string | Uint8Array): boolean => {
    if (closed.has(which) || gone) return false;
    // Once the stream exists (made here, or by a library writing to process.stdout itself), it may
    // hold queued writes: everything goes through it, so nothing overtakes them.
    if (made || madeStreams.has(which)) return stream().write(chunk);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (readerGone(code)) {
        // Handled once the command's own continuation has run (the stream's 'error' event would come
        // sooner, on the next tick): a command that was done with its writing closes its store first.
        gone = true;
        setImmediate(() => outputClosed(which, code as string));
        return false;
      }
      // EAGAIN and anything stranger (a descriptor that is not open): the stream's way, as before.
    }
    return written === bytes.length || stream().write(bytes.subarray(written));
  };
  return {
    write,
    // Nothing written yet, nothing to wait for.
    drained: () =>
      closed.has(which) || !made || !made.writableNeedDrain
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            // A reader that goes away never drains: the close (or the error handled above) ends the wait.
            const done = () => {
              stream().off('drain', done);
              stream().off('close', done);
              stream().off('error', done);
              resolve();
            };
            stream().on('drain', done);
            stream().on('close', done);
            stream().on('error', done);
          }),
    get isTTY() {
      return stream().isTTY;
    },
    get columns() {
      return stream().columns;
    },
    get rows() {
      return stream().rows;
    },
  };
}

/** Colour is decided once: off for --no-color, NO_COLOR, TERM=dumb, --json or a stdout that is not a terminal. */
export function colorEnabled(io: IO, opts: { color?: boolean; json?: boolean }): boolean {
  if (opts.color === false || opts.json) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  if (io.env.TERM === 'dumb') return false;
  return io.stdout.isTTY === true;
}
