// The hashing file writer: the hash covers exactly the bytes in the file, and several files written
// at once release their dead chunks together (one count of bytes for the process, see gc.ts), so
// memory does not grow with the number of logs streaming at the same time. Large files go to the
// disk around the page cache (O_DIRECT), seen with fincore(1) from util-linux; a slow stream still
// reaches the disk while it is open, and a slot written early is completed in order.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashingFileWriter } from '../../src/evidence/writer.js';

const MiB = 1024 * 1024;

/** Young-generation collections asked for by code (forced), as V8 reports them. */
function forcedMinorCollections(): { count(): Promise<number>; stop(): void } {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const d = (e as unknown as { detail: { kind: number; flags: number } }).detail;
      if (d.kind === constants.NODE_PERFORMANCE_GC_MINOR && d.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) n++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    // Entries are delivered after the collection, on a later turn.
    count: () => new Promise((resolve) => setTimeout(() => resolve(n), 50)),
    stop: () => obs.disconnect(),
  };
}

/** Bytes of a file held in the page cache, by fincore(1); why not, when it cannot tell here. */
function cached(path: string): number | string {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `fincore(1) unavailable: ${(r.error?.message ?? r.stderr).trim()}`;
  return Number(r.stdout.trim());
}

/** Why files in `dir` cannot be opened O_DIRECT (Linux only; some file systems refuse it), if they cannot. */
function noDirectIo(dir: string): string | undefined {
  const flag = (fsConstants as { O_DIRECT?: number }).O_DIRECT;
  if (process.platform !== 'linux' || !flag) return 'O_DIRECT is Linux-only';
  const probe = join(dir, 'probe');
  writeFileSync(probe, '');
  try {
    closeSync(openSync(probe, fsConstants.O_WRONLY | flag));
    // Some file systems open with O_DIRECT and refuse the write itself: write one aligned MiB too.
    const dd = spawnSync('dd', ['if=/dev/zero', `of=${probe}`, 'bs=1M', 'count=1', 'oflag=direct'], { encoding: 'utf8' });
    return dd.status === 0 ? undefined : `${dir} refuses an O_DIRECT write: ${dd.stderr.trim().split('\n')[0]}`;
  } catch (err) {
    return `${dir} refuses O_DIRECT: ${(err as Error).message}`;
  } finally {
    rmSync(probe);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the file on disk holds `bytes` bytes (or fails after 10 s): what a reader sees. */
async function onDisk(path: string, bytes: number): Promise<void> {
  for (const end = Date.now() + 10_000; statSync(path).size < bytes; await sleep(20)) {
    if (Date.now() > end) throw new Error(`${path} holds ${statSync(path).size} bytes on disk, not ${bytes}`);
  }
}

/** `n` bytes of log-like text that differ in every KiB, so a misplaced block changes the hash. */
function logBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let o = 0; o < n; o += 1024) b.write(`${seed}:${o} level=info msg="request served"\n`.padEnd(1024, 'x'), o, 'latin1');
  return b;
}

const write = (w: HashingFileWriter, chunk: Buffer) => new Promise<void>((resolve, reject) => w.write(chunk, (err) => (err ? reject(err) : resolve())));

describe('HashingFileWriter', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ir-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('collects the dead chunks of files written at once by their bytes together, each hash still exact', async () => {
    // Four files of 3 MiB: none alone reaches the 8 MiB between collections, all four together do.
    const writers = Array.from({ length: 4 }, (_, i) => new HashingFileWriter(join(dir, `pod-${i}.log`)));
    const hashes = writers.map(() => createHash('sha256'));
    const gcs = forcedMinorCollections();
    try {
      for (let k = 0; k < 48; k++) {
        await Promise.all(
          writers.map((w, i) => {
            const chunk = Buffer.alloc(64 * 1024, 97 + ((i + k) % 26));
            hashes[i].update(chunk);
            return write(w, chunk);
          }),
        );
      }
      const results = await Promise.all(writers.map((w) => w.finish()));
      expect(await gcs.count()).toBeGreaterThanOrEqual(1);
      results.forEach((r, i) => {
        expect(r.bytes).toBe(3 * MiB);
        expect(r.sha256).toBe(hashes[i].digest('hex'));
        expect(createHash('sha256').update(readFileSync(join(dir, `pod-${i}.log`))).digest('hex')).toBe(r.sha256);
      });
    } finally {
      gcs.stop();
    }
  });

  it('writes a large file around the page cache (O_DIRECT), every byte and the hash exact', async (ctx) => {
    const why = noDirectIo(dir);
    if (why) return ctx.skip(why);
    // On a memory file system the page cache is where the file lives, direct or not.
    const fsType = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim();
    if (fsType === 'tmpfs' || fsType === 'ramfs') return ctx.skip(`${dir} is on ${fsType}`);
    const path = join(dir, 'big.log');
    // Eight whole slots and a tail, in socket-sized chunks that straddle the slot boundaries.
    const data = logBytes(8 * MiB + 12_345, 1);
    const w = new HashingFileWriter(path);
    for (let o = 0; o < data.length; o += 48 * 1024) await write(w, data.subarray(o, o + 48 * 1024));
    const r = await w.finish();
    const resident = cached(path);
    if (typeof resident === 'string') return ctx.skip(resident);
    // Only the 12 KiB tail (under one slot) went through the page cache; through it, all 8 MiB would be there.
    expect(resident).toBeLessThan(MiB);
    expect(r.bytes).toBe(data.length);
    expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('writes through the page cache, every byte and the hash exact, where the file system refuses O_DIRECT (ramfs)', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('not running as root: cannot mount a ramfs');
    const mnt = join(dir, 'ramfs');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'ramfs', '-o', 'mode=0700', 'ramfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) return ctx.skip(`mount -t ramfs failed: ${(m.stderr || m.error?.message || '').trim()}`);
    try {
      expect(noDirectIo(mnt)).toMatch(/refuses O_DIRECT/);
      const path = join(mnt, 'cached.log');
      const data = logBytes(3 * MiB + 999, 4);
      const w = new HashingFileWriter(path);
      for (let o = 0; o < data.length; o += 64 * 1024) await write(w, data.subarray(o, o + 64 * 1024));
      const r = await w.finish();
      expect(w.failure).toBeUndefined();
      expect(r.bytes).toBe(data.length);
      expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(readFileSync(path).equals(data)).toBe(true);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('puts a slow stream on the disk while it is still open, then completes that slot in order', async () => {
    const path = join(dir, 'slow.log');
    const w = new HashingFileWriter(path);
    const seen: number[] = [];
    w.onBytes = (n) => seen.push(n);
    // A kubelet trickling a line: it is on the disk (and in the progress count) without more coming.
    await write(w, Buffer.from('started\n'));
    await onDisk(path, 8);
    // The count follows the write's completion, which can come a moment after the bytes show on disk.
    for (const end = Date.now() + 10_000; seen.at(-1) !== 8 && Date.now() < end; ) await sleep(20);
    expect(seen.at(-1)).toBe(8);
    // Then a burst that fills the slot the first line began (rewritten whole, hashed once) and more.
    const burst = logBytes(3 * MiB + 777, 2);
    for (let o = 0; o < burst.length; o += 64 * 1024) await write(w, burst.subarray(o, o + 64 * 1024));
    await write(w, Buffer.from('stopped\n'));
    const r = await w.finish();
    const all = Buffer.concat([Buffer.from('started\n'), burst, Buffer.from('stopped\n')]);
    expect(r.bytes).toBe(all.length);
    expect(seen.at(-1)).toBe(all.length);
    expect(r.sha256).toBe(createHash('sha256').update(all).digest('hex'));
    expect(readFileSync(path).equals(all)).toBe(true);
  });

  it('keeps and hashes every accepted byte when destroyed half-way (a cut-off stream)', async () => {
    const path = join(dir, 'cut.log');
    const w = new HashingFileWriter(path);
    const data = logBytes(2 * MiB + 4321, 3);
    for (let o = 0; o < data.length; o += 64 * 1024) await write(w, data.subarray(o, o + 64 * 1024));
    w.destroy(new Error('aborted'));
    const r = await w.finish();
    expect(w.failure?.message).toBe('aborted');
    expect(r.bytes).toBe(data.length);
    expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(readFileSync(path).equals(data)).toBe(true);
  });
});
