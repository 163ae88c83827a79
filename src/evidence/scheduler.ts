// Runs collectors with bounded parallelism and a timeout each. A collector that hangs is aborted at
// its timeout and, if it still does not return, cut loose after a grace period: its files are
// closed with what they hold, hashed, and marked `timeout`, while the others go on. A full disk
// fails the files it cut short (what landed is kept and hashed) and the collectors not yet started.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Collector, CollectorRun, EvidenceFile, FileRecord, FileStatus } from './types.js';
import { HashingFileWriter } from './writer.js';

export type CollectorState = 'queued' | 'running' | FileStatus;

export interface SchedulerEvents {
  onState?(name: string, state: CollectorState, bytes: number, reason?: string): void;
  onBytes?(name: string, bytes: number): void;
  /** A collector finished: its files' records, in the order it opened them. */
  onFinished?(name: string, records: FileRecord[]): void;
}

export interface ScheduleOptions extends SchedulerEvents {
  /** The collection directory; files are named relative to it. */
  dir: string;
  /** Paths in records are relative to this (the incident directory). */
  relativeTo: string;
  concurrency: number;
  /** How long a collector gets to return after its abort before it is cut loose. */
  graceMs?: number;
  /** Aborts every collector (a signal, a closed terminal); its reason says why. */
  signal?: AbortSignal;
  /** A file is about to be created (nothing written yet): `file` is relative to `relativeTo`. */
  onOpened?(name: string, file: { file: string; source: string; openedAt: string }): void | Promise<void>;
  now?: () => Date;
}

const hashFile = (path: string): Promise<{ bytes: number; sha256: string }> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    createReadStream(path)
      .on('data', (b) => {
        hash.update(b as Buffer);
        bytes += (b as Buffer).length;
      })
      .on('end', () => resolve({ bytes, sha256: hash.digest('hex') }))
      .on('error', reject);
  });

/** Out of space (or quota): every file on that disk would fail the same way. */
export const isDiskFull = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Why a file could not be written in full, in one line. */
export function writeFailure(err: unknown, file: string, bytes: number): string {
  if (isDiskFull(err)) return `disk full (${(err as NodeJS.ErrnoException).code}) writing ${file}; ${bytes} bytes kept`;
  return `write failed: ${reasonOf(err)}`;
}

interface OpenFile {
  name: string;
  source: string;
  path: string;
  startedAt: string;
  writer?: HashingFileWriter;
  record?: FileRecord;
}

/** Runs every collector; resolves with all file records once each has finished or been cut loose. */
export async function runCollectors(collectors: Collector[], opts: ScheduleOptions): Promise<FileRecord[]> {
  const now = opts.now ?? (() => new Date());
  const all: FileRecord[] = [];
  const queue = [...collectors];
  for (const c of collectors) opts.onState?.(c.name, 'queued', 0);
  const outerReason = () => (opts.signal?.reason instanceof Error ? opts.signal.reason.message : 'cancelled');
  // Set by the first write that finds the disk full: starting more collectors would only fail again.
  let diskFull: string | undefined;
  const noteDiskFull = (err: unknown) => {
    if (isDiskFull(err)) diskFull ??= (err as NodeJS.ErrnoException).code;
  };

  const runOne = async (c: Collector): Promise<FileRecord[]> => {
    const startedAt = now().toISOString();
    // Cut short before it could start: failed, not skipped (skipped means "nothing to collect here").
    if ((diskFull || opts.signal?.aborted) && !(await c.skipReason?.())) {
      const reason = `not started: ${opts.signal?.aborted ? outerReason() : `the disk is full (${diskFull})`}`;
      opts.onState?.(c.name, 'failed', 0, reason);
      const records: FileRecord[] = [{ collector: c.name, file: null, source: c.description, startedAt, finishedAt: now().toISOString(), bytes: 0, sha256: null, status: 'failed', reason }];
      opts.onFinished?.(c.name, records);
      return records;
    }
    const skip = await c.skipReason?.();
    if (skip) {
      const reason = skip;
      opts.onState?.(c.name, 'skipped', 0, reason);
      const records: FileRecord[] = [{ collector: c.name, file: null, source: c.description, startedAt, finishedAt: now().toISOString(), bytes: 0, sha256: null, status: 'skipped', reason }];
      opts.onFinished?.(c.name, records);
      return records;
    }
    opts.onState?.(c.name, 'running', 0);
    const abort = new AbortController();
    let timedOut = false;
    const onOuterAbort = () => abort.abort(new Error(outerReason()));
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error(`timed out after ${Math.round(c.timeoutMs / 1000)}s`));
    }, c.timeoutMs);

    const files: OpenFile[] = [];
    let bytes = 0;
    const report = () => {
      const total = files.reduce((n, f) => n + (f.record?.bytes ?? f.writer?.bytes ?? 0), 0);
      if (total !== bytes) {
        bytes = total;
        opts.onBytes?.(c.name, total);
      }
    };
    const record = (f: OpenFile, result: { bytes: number; sha256: string }, status: FileStatus, reason?: string): FileRecord => ({
      collector: c.name,
      file: relative(opts.relativeTo, f.path),
      source: f.source,
      startedAt: f.startedAt,
      finishedAt: now().toISOString(),
      bytes: result.bytes,
      sha256: result.sha256,
      status,
      ...(reason ? { reason } : {}),
    });
    const run: CollectorRun = {
      signal: abort.signal,
      timeoutMs: c.timeoutMs,
      file: async (name, source): Promise<EvidenceFile> => {
        const f: OpenFile = { name, source, path: join(opts.dir, name), startedAt: now().toISOString() };
        const twice = () => files.some((o) => o.path === f.path);
        if (twice()) throw new Error(`collector ${c.name} opened ${name} twice`);
        // Recorded before the file exists, so a crash from here on leaves a known partial file.
        await opts.onOpened?.(c.name, { file: relative(opts.relativeTo, f.path), source, openedAt: f.startedAt });
        // The same name asked for again while the first was being recorded.
        if (twice()) throw new Error(`collector ${c.name} opened ${name} twice`);
        files.push(f);
        return {
          path: f.path,
          writer: () => {
            if (!f.writer) {
              f.writer = new HashingFileWriter(f.path);
              f.writer.onBytes = report;
            }
            return f.writer;
          },
          done: async (status = 'ok', reason) => {
            if (f.record) return;
            const w = f.writer ?? (f.writer = new HashingFileWriter(f.path));
            const result = await w.finish();
            if (w.failure) noteDiskFull(w.failure);
            const failure = w.failure && !timedOut ? writeFailure(w.failure, relative(opts.relativeTo, f.path), result.bytes) : undefined;
            f.record = record(f, result, failure ? 'failed' : status, failure ?? reason);
            report();
          },
          doneExternal: (result, status = 'ok', reason) => {
            if (f.record) return;
            f.record = record(f, result, status, reason);
            report();
          },
        };
      },
    };

    let error: unknown;
    let cutLoose = false;
    const finished = c.run(run).then(
      () => undefined,
      (err: unknown) => {
        error = err;
      },
    );
    // Wait for the collector; once aborted, give it a grace period to tidy up, then move on.
    await Promise.race([
      finished,
      new Promise<void>((resolve) => {
        abort.signal.addEventListener(
          'abort',
          () => {
            const t = setTimeout(() => {
              cutLoose = true;
              resolve();
            }, opts.graceMs ?? 5000);
            t.unref();
            void finished.then(() => clearTimeout(t));
          },
          { once: true },
        );
      }),
    ]);
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);

    const reasonText = reasonOf;
    if (error !== undefined) noteDiskFull(error);
    const stopped = timedOut || abort.signal.aborted;
    const openStatus: FileStatus = timedOut ? 'timeout' : 'failed';
    const openReason = timedOut
      ? `timed out after ${Math.round(c.timeoutMs / 1000)}s; partial output kept`
      : abort.signal.aborted
        ? `${reasonText(abort.signal.reason)}; partial output kept`
        : error !== undefined
          ? reasonText(error)
          : 'the collector did not close this file';
    const records: FileRecord[] = [];
    for (const f of files) {
      if (!f.record) {
        // Still open: keep what reached the disk, hash exactly that.
        let result: { bytes: number; sha256: string };
        if (f.writer) result = await f.writer.finish();
        else if (existsSync(f.path)) result = await hashFile(f.path);
        else result = { bytes: 0, sha256: createHash('sha256').digest('hex') };
        const failed = f.writer?.failure;
        if (failed) noteDiskFull(failed);
        // A write error is the more precise cause than the error the collector threw because of it.
        if (failed && !stopped) f.record = record(f, result, 'failed', writeFailure(failed, relative(opts.relativeTo, f.path), result.bytes));
        else f.record = record(f, result, openStatus, openReason);
      }
      records.push(f.record);
    }
    if (!records.length) {
      const status: FileStatus = stopped ? openStatus : error !== undefined ? 'failed' : 'ok';
      const reason = stopped ? openReason : error !== undefined ? reasonText(error) : 'produced no output';
      records.push({ collector: c.name, file: null, source: c.description, startedAt, finishedAt: now().toISOString(), bytes: 0, sha256: null, status, reason });
    } else if (error !== undefined && !stopped && records.every((r) => r.status === 'ok')) {
      // Failed after closing its files cleanly: the failure still belongs on the record.
      const last = records[records.length - 1];
      last.status = 'failed';
      last.reason = reasonText(error);
    }
    if (cutLoose) for (const r of records) if (r.status === 'timeout' && r.reason) r.reason = r.reason.replace('; partial', ' (did not stop when asked); partial');
    const worst = records.find((r) => r.status === 'timeout') ?? records.find((r) => r.status === 'failed') ?? records[0];
    opts.onState?.(c.name, worst.status, records.reduce((n, r) => n + r.bytes, 0), worst.reason);
    opts.onFinished?.(c.name, records);
    return records;
  };

  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency, collectors.length)) }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) all.push(...(await runOne(c)));
  });
  await Promise.all(workers);
  // Report in the order the collectors were declared, whatever order they finished in.
  const order = new Map(collectors.map((c, i) => [c.name, i]));
  return all.sort((a, b) => order.get(a.collector)! - order.get(b.collector)!);
}
