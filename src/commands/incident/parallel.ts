// A long timeline in a local SQLite store, rendered on two threads: `ir show` and `ir timeline` (human
// and --json) cut the incident's seq range into chunks; this thread and a helper thread
// (render-worker.ts, on its own read-only connection) each take the next chunk nobody has taken, so
// the faster does more, and this thread writes them in order. The human form's column widths come
// first from an outline of the range, cut and shared the same way. The bytes are those of the
// streamed path (range.ts defines a row for both).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker as WorkerType } from 'node:worker_threads';
import type { ChalkInstance } from 'chalk';
import { OperationError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { LocalTimeline, Store } from '../../store/types.js';
import { headerLine, mergeOutline, Outliner, RangeRenderer, TIMELINE_HEADER, type ColumnWidths, type PartOutline } from './range.js';

/**
 * From this many events (the seq span, which bounds the count) a timeline is rendered on two threads;
 * below, starting the helper thread (about 40 ms) costs more than it saves.
 * IR_PARALLEL_MIN_EVENTS moves the threshold (for tests: a short timeline taken through both threads);
 * IR_TEST_RENDER_HELPER=all leaves every chunk to the helper, =fail makes it fail as it starts.
 */
export const PARALLEL_RENDER_MIN = 20_000;

/** Most seqs in a chunk: a few hundred KiB of text, so the chunks in flight keep memory flat. */
const CHUNK_SEQS = 1024;

/**
 * Most seqs in a stretch of the outline. The helper spends its first tens of milliseconds starting
 * (more on a busy machine), so the outline is not split in fixed parts: each thread takes the next
 * stretch nobody has taken, and this one waits at most for the helper's last.
 */
const OUTLINE_SEQS = 4096;

/**
 * Chunks either thread may render ahead of what this thread has written: enough that a thread the
 * machine sets aside for a moment does not leave the other waiting, few enough to keep memory flat.
 * A chunk is about 100 KiB of text but 400 KiB of --json: at 4 chunks ahead, --json of a million
 * events peaked at 108-120 MiB instead of 105.
 */
const AHEAD = { text: 4, json: 2 };

/**
 * Pages of SQLite's cache for each render connection (the driver's default is 16 MB a connection):
 * each row is read once, in order, so only the index's inner pages are worth keeping.
 */
export const RENDER_CACHE_PAGES = 256;

/** The helper thread's module, next to this one in dist (bundled or not); absent when run from src. */
const HELPER = new URL('./render-worker.js', import.meta.url);

/** What the helper thread is asked to do. */
export interface RenderJob {
  path: string;
  incidentId: string;
  json: boolean;
  /** chalk's colour level, 0 for none. */
  color: number;
  first: number;
  last: number;
  /** Seqs per chunk, and how many chunks cover first..last. */
  size: number;
  chunks: number;
  /**
   * [NEXT_CHUNK]: the next chunk nobody has taken yet; [NEXT_STRETCH]: the same for the stretches of
   * the outline (human form). Each thread takes one with Atomics.add.
   */
  next: Int32Array;
  /** Seqs per stretch of the outline, and how many stretches cover first..last (0: no outline). */
  stretch: number;
  stretches: number;
  ahead: number;
}

export const NEXT_CHUNK = 0;
export const NEXT_STRETCH = 1;

/** Chunk k's seq range, both ends included. */
export function chunkBounds(job: Pick<RenderJob, 'first' | 'last' | 'size'>, k: number): [number, number] {
  const from = job.first + k * job.size;
  return [from, Math.min(job.last, from + job.size - 1)];
}

/** Outlines stretch after stretch of the job's range into `outliner`, until none is left to take; how many it took. */
export function outlineStretches(outliner: Outliner, job: RenderJob): number {
  let taken = 0;
  for (let k; (k = Atomics.add(job.next, NEXT_STRETCH, 1)) < job.stretches; taken++) {
    const from = job.first + k * job.stretch;
    outliner.add(from, Math.min(job.last, from + job.stretch - 1));
  }
  return taken;
}

/** The incident's timeline, if it is long enough and local enough to render on two threads. */
export async function parallelTimeline(store: Store, incidentId: string, env: NodeJS.ProcessEnv): Promise<LocalTimeline | undefined> {
  if (!store.localTimeline) return undefined;
  const forced = Number(env.IR_PARALLEL_MIN_EVENTS);
  const min = env.IR_PARALLEL_MIN_EVENTS && Number.isInteger(forced) && forced >= 0 ? forced : PARALLEL_RENDER_MIN;
  const local = await store.localTimeline(incidentId);
  if (!local || local.last - local.first + 1 < min) return undefined;
  if (!existsSync(local.path) || !existsSync(fileURLToPath(HELPER))) return undefined;
  return local;
}

/**
 * A long timeline's helper thread, started as soon as the command knows it will be needed (it takes
 * tens of milliseconds to start), then the rows written by `write`. `stop` ends it, written or not.
 */
export class ParallelRender {
  private readonly job: RenderJob;
  private readonly helper: Helper;
  private readonly helperOnly: boolean;

  constructor(
    local: LocalTimeline,
    private readonly incidentId: string,
    private readonly opts: { json: boolean; style?: ChalkInstance; env: NodeJS.ProcessEnv },
    Worker: typeof WorkerType,
  ) {
    // For tests: the helper renders every chunk and outlines every stretch (`all`), so its work is
    // proven, not left to timing.
    this.helperOnly = opts.env.IR_TEST_RENDER_HELPER === 'all';
    const span = local.last - local.first + 1;
    // At least eight chunks, so a short timeline (a test's) still has both threads take turns.
    const size = Math.min(CHUNK_SEQS, Math.ceil(span / 8));
    const stretch = Math.min(OUTLINE_SEQS, Math.ceil(span / 8));
    this.job = {
      path: local.path,
      incidentId,
      json: opts.json,
      color: opts.json ? 0 : (opts.style?.level ?? 0),
      first: local.first,
      last: local.last,
      size,
      chunks: Math.ceil(span / size),
      next: new Int32Array(new SharedArrayBuffer(8)),
      stretch,
      stretches: opts.json ? 0 : Math.ceil(span / stretch),
      ahead: opts.json ? AHEAD.json : AHEAD.text,
    };
    // A small young generation keeps the helper's heap (part of the process's peak) from growing to
    // the default under this allocation rate; the old generation's cap turns a runaway into a failure.
    this.helper = new Helper(new Worker(HELPER, { workerData: this.job, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } }));
  }

  /**
   * Writes the timeline rows (human: the header first; json: the items of the events array, joined as
   * writeJsonWithPages joins them) and flushes; true when any event was written.
   */
  async write(sink: Sink): Promise<boolean> {
    const { job, helper, helperOnly, incidentId, opts } = this;
    const { openSqlite } = await import('../../store/sqlite/driver.js');
    const db = openSqlite(job.path, 30_000, { readonly: true, fileMustExist: true });
    try {
      db.pragma(`cache_size = ${RENDER_CACHE_PAGES}`);
      let widths: ColumnWidths | undefined;
      if (!opts.json) {
        // This thread outlines while the helper starts, the helper joins once it has: neither waits long.
        const mine = new Outliner(db, incidentId);
        const taken = helperOnly ? 0 : outlineStretches(mine, job);
        // The helper's part, unless this thread took every stretch (the helper still starting): then
        // the helper, once started, finds none left and gets the widths from the message waiting for it.
        if (taken < job.stretches) mergeOutline(mine.part, await helper.outline());
        widths = { time: Math.max(TIMELINE_HEADER[0].length, mine.part.time), actor: Math.max(TIMELINE_HEADER[1].length, mine.part.actor) };
        helper.post({ widths });
        if (!mine.part.count) {
          await sink.write('(no events)\n');
          await sink.flush();
          return false;
        }
        await sink.write(headerLine(widths));
      }
      const style = opts.style;
      const renderer = new RangeRenderer(db, incidentId, { json: opts.json, widths, dim: style && ((text) => style.dim(text)) });
      // Chunks this thread took and rendered, not yet written; the helper's arrive as messages.
      const mine = new Map<number, Uint8Array>();
      const take = () => {
        const k = Atomics.add(job.next, NEXT_CHUNK, 1);
        if (k < job.chunks) mine.set(k, renderer.render(...chunkBounds(job, k)));
        return k;
      };
      let any = false;
      for (let k = 0; k < job.chunks; k++) {
        let bytes = mine.get(k);
        // Not taken yet: this thread takes chunks until it has this one (the helper may take some between).
        while (!bytes && !helperOnly && Atomics.load(job.next, NEXT_CHUNK) <= k) {
          take();
          bytes = mine.get(k);
        }
        mine.delete(k);
        if (!bytes) {
          // The helper's: while it is not here, render ahead, a few chunks at most (memory stays flat).
          while (!(bytes = helper.take(k))) {
            if (!helperOnly && mine.size < job.ahead && Atomics.load(job.next, NEXT_CHUNK) < job.chunks) {
              take();
              // Lets the helper's messages in.
              await new Promise((resolve) => setImmediate(resolve));
            } else await helper.wait();
          }
          helper.post({ ack: true });
        }
        if (bytes.length) {
          if (opts.json && any) sink.add(',');
          any = true;
          sink.addBytes(bytes);
          await sink.drain();
        }
      }
      await sink.flush();
      // A helper that failed fails the command, even when this thread took the chunks it did not render.
      await helper.done();
      return any;
    } finally {
      db.close();
      await this.stop();
    }
  }

  /** Ends the helper thread (again: a no-op). */
  async stop(): Promise<void> {
    await this.helper.stop();
  }
}

/**
 * Starts rendering the incident's timeline on two threads, if it is long enough and local enough;
 * the caller writes it with `write` or ends it with `stop`.
 */
export async function startParallel(store: Store, incidentId: string, opts: { json: boolean; style?: ChalkInstance; env: NodeJS.ProcessEnv }): Promise<ParallelRender | undefined> {
  const local = await parallelTimeline(store, incidentId, opts.env);
  if (!local) return undefined;
  const { Worker } = await import('node:worker_threads');
  return new ParallelRender(local, incidentId, opts, Worker);
}

/** The helper thread's chunks as they arrive; a thread that fails or ends early fails the next wait. */
class Helper {
  private readonly chunks = new Map<number, Uint8Array>();
  private part?: PartOutline;
  private finished = false;
  private stopped = false;
  private failure?: Error;
  private wake?: () => void;

  constructor(private readonly worker: WorkerType) {
    worker.on('message', (m: { k?: number; bytes?: Uint8Array; outline?: PartOutline; done?: true }) => {
      if (m.bytes && m.k !== undefined) this.chunks.set(m.k, m.bytes);
      if (m.outline) this.part = m.outline;
      if (m.done) this.finished = true;
      this.wake?.();
    });
    worker.once('error', (err) => this.fail(`the helper thread rendering the timeline failed: ${err.message}`));
    worker.once('exit', (code) => this.fail(`the helper thread rendering the timeline ended (code ${code}) before its last chunk`));
  }

  /** Chunk k, if it has arrived. */
  take(k: number): Uint8Array | undefined {
    const bytes = this.chunks.get(k);
    if (bytes) this.chunks.delete(k);
    return bytes;
  }

  /** Until the next message (or the failure, thrown). */
  async wait(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
  }

  /** The helper's part of the outline. */
  async outline(): Promise<PartOutline> {
    while (!this.part) await this.wait();
    return this.part;
  }

  /** Until the helper says it has no chunk left to take. */
  async done(): Promise<void> {
    while (!this.finished) await this.wait();
  }

  post(message: unknown): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.removeAllListeners();
    // Whatever it says now is moot; unheard, an 'error' would end the process.
    this.worker.on('error', () => undefined);
    await this.worker.terminate();
  }

  private fail(reason: string): void {
    // An exit after the last word is no failure.
    if (!this.finished) this.failure ??= new OperationError(reason);
    this.wake?.();
  }
}
