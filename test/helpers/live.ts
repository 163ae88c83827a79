// A long-running ir (a live view) spawned as users run it, whose output is read while it runs.

import { spawn } from 'node:child_process';
import { BIN, ROOT, irEnv } from './cli.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns `ir args`; the test reads stdout/stderr as they grow and waits for it to exit. */
export function live(home: string, args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: irEnv(home, env), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** Waits for stdout (or stderr) to match; the ceiling only turns a hang into a failure (no speed is claimed). */
    async waitFor(pattern: RegExp, ceilingMs = 10_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
      const deadline = Date.now() + ceilingMs;
      const text = () => (stream === 'stdout' ? stdout : stderr);
      while (Date.now() < deadline) {
        if (pattern.test(text())) return text();
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      throw new Error(`ir ${args.join(' ')} never printed ${pattern} on ${stream} (exit ${child.exitCode}); stdout:\n${stdout}\nstderr:\n${stderr}`);
    },
  };
}

