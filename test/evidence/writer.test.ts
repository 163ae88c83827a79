// The hashing file writer: the hash covers exactly the bytes in the file, and several files written
// at once release their dead chunks together (one count of bytes for the process, see gc.ts), so
// memory does not grow with the number of logs streaming at the same time.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
});
