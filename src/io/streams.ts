// The process's streams and environment as one value, so tests can run commands in-process.

export interface OutStream {
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
  columns?: number;
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

export function processIO(): IO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Colour is decided once: off for --no-color, NO_COLOR, TERM=dumb, --json or a stdout that is not a terminal. */
export function colorEnabled(io: IO, opts: { color?: boolean; json?: boolean }): boolean {
  if (opts.color === false || opts.json) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  if (io.env.TERM === 'dumb') return false;
  return io.stdout.isTTY === true;
}
