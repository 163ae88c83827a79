// The scheduler: bounded parallelism, a hung collector cut off at its timeout with its partial
// output kept and hashed, the others unaffected.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCollectors } from '../../src/evidence/scheduler.js';
import type { Collector } from '../../src/evidence/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('runCollectors', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ir-sched-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writes = (name: string, text: string, delayMs = 0): Collector => ({
    name,
    kind: 'command',
    description: name,
    timeoutMs: 5000,
    run: async (r) => {
      const f = await r.file(`${name}.txt`, `test ${name}`);
      await sleep(delayMs);
      f.writer().write(text);
      await f.done();
    },
  });

  it('cuts off a hung collector at its timeout, keeps and hashes its partial output, and runs the rest', async () => {
    let running = 0;
    let peak = 0;
    const counted = (c: Collector): Collector => ({
      ...c,
      run: async (r) => {
        peak = Math.max(peak, ++running);
        try {
          await c.run(r);
        } finally {
          running--;
        }
      },
    });
    const hung: Collector = {
      name: 'hung',
      kind: 'kubernetes',
      description: 'never finishes',
      timeoutMs: 300,
      run: async (r) => {
        const f = await r.file('hung.log', 'a stream that stalls');
        f.writer().write('partial line 1\npartial line 2\n');
        // Ignores its abort signal entirely: the scheduler must cut it loose after the grace period.
        await new Promise(() => {});
      },
    };
    const started = Date.now();
    const records = await runCollectors([counted(hung), ...['a', 'b', 'c', 'd', 'e'].map((n) => counted(writes(n, `output of ${n}\n`, 50)))], {
      dir,
      relativeTo: dir,
      concurrency: 2,
      graceMs: 200,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(peak).toBe(2);
    expect(records.map((r) => [r.collector, r.status])).toEqual([['hung', 'timeout'], ['a', 'ok'], ['b', 'ok'], ['c', 'ok'], ['d', 'ok'], ['e', 'ok']]);
    const h = records[0];
    expect(h.reason).toMatch(/timed out after 0s \(did not stop when asked\); partial output kept/);
    expect(readFileSync(join(dir, 'hung.log'), 'utf8')).toBe('partial line 1\npartial line 2\n');
    expect(h.sha256).toBe(sha('partial line 1\npartial line 2\n'));
    expect(h.bytes).toBe(30);
    for (const r of records.slice(1)) expect(r.sha256).toBe(sha(readFileSync(join(dir, r.file!))));
  });

  it('records skipped and failed collectors with their reasons', async () => {
    const records = await runCollectors(
      [
        { name: 'skipper', kind: 'command', description: 'x', timeoutMs: 1000, skipReason: () => 'redis-cli not found on PATH', run: async () => {} },
        { name: 'broken', kind: 'command', description: 'y', timeoutMs: 1000, run: async () => Promise.reject(new Error('connection refused')) },
        {
          name: 'half',
          kind: 'command',
          description: 'z',
          timeoutMs: 1000,
          run: async (r) => {
            (await r.file('half.txt', 'z')).writer().write('some');
            throw new Error('stream reset');
          },
        },
      ],
      { dir, relativeTo: dir, concurrency: 4 },
    );
    expect(records).toEqual([
      expect.objectContaining({ collector: 'skipper', file: null, status: 'skipped', reason: 'redis-cli not found on PATH' }),
      expect.objectContaining({ collector: 'broken', file: null, status: 'failed', reason: 'connection refused' }),
      expect.objectContaining({ collector: 'half', file: 'half.txt', status: 'failed', reason: 'stream reset', bytes: 4, sha256: sha('some') }),
    ]);
  });
});
