// What a real `ir` process loads: every module URL the trace hook saw (test/helpers/trace-imports.mjs),
// plus, for each chunk of dist/bin it loaded, the packages esbuild bundled into that chunk.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { BIN, ROOT, irEnv } from './cli.js';

export function loadedModules(home: string, args: string[], env: Record<string, string> = {}): string[] {
  const trace = traceFile(home, args);
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, ...args], {
    env: irEnv(home, { IR_TRACE_FILE: trace, ...env }),
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return readTrace(trace);
}

/** The same, without blocking this process: for commands that talk to a server running in it (the fake kube). */
export async function loadedModulesAsync(home: string, args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const trace = traceFile(home, args);
  const child = spawn(process.execPath, ['--import', join(ROOT, 'test/helpers/trace-imports.mjs'), BIN, ...args], {
    env: irEnv(home, { IR_TRACE_FILE: trace, ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  expect(code, stderr).toBe(0);
  return readTrace(trace);
}

function traceFile(home: string, args: string[]): string {
  const trace = join(home, `trace-${args.join('-').replace(/\W/g, '')}.txt`);
  rmSync(trace, { force: true });
  return trace;
}

function readTrace(trace: string): string[] {
  const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  // A package bundled into a chunk (pg is) is loaded when its chunk is: esbuild names each one in a
  // `// node_modules/…` line, which stands here for the file it came from.
  const bundled = urls
    .filter((u) => u.startsWith('file:') && u.includes('/dist/bin/'))
    .flatMap((u) => readFileSync(fileURLToPath(u), 'utf8').match(/^\/\/ node_modules\/\S+/gm) ?? [])
    .map((line) => `bundled:/${line.slice(3)}`);
  return [...urls, ...bundled];
}
