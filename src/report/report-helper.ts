// Starts the helper thread of `ir postmortem` (timeline-helper.ts) on the second part of a long
// incident's timeline, and says what it hands back. Only the SQLite store has a file a second
// connection can read; the team store keeps the one-thread path.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RedactorState } from '../redact/redactor.js';
import type { ModelOp } from './model.js';
import type { RowParts } from './template.js';

/** What the helper thread is started with, before the main thread knows the rest of its job. */
export interface HelperBoot {
  /** The store's file, opened read-only while the main thread gets ready. */
  path: string;
}

/** What the helper thread is given once the main thread has its redactor and template. */
export interface TimelineJob {
  incidentId: string;
  /** The events with seq in [from, to]. */
  from: number;
  to: number;
  /** Events redacted together; the part starts at a multiple of it, so its batches fall as one thread's would. */
  batch: number;
  /** The template, and its row's parts when it prints rows of plain fields (then nothing else is read). */
  template: { file: string; cwd: string; cacheDir: string; fields: readonly string[]; row?: RowParts };
  /** Where the rows go (a private scratch file). */
  rowsFile: string;
  /** The team's patterns and the main thread's redactor as it stands before the first event; null with --no-redact. */
  redact: { patterns: string[]; state: RedactorState } | null;
}

/** What it hands back. */
export interface TimelineResult {
  count: number;
  /** The first event's time: the part is in order after the first only if this is not before the first part's newest. */
  firstAt: string | null;
  /** False when an event came before an earlier one: then nothing else here is filled in or used. */
  inOrder: boolean;
  /** The last event's seq (its hash is not read with the rows: the main thread reads that one). */
  lastSeq: number | null;
  ops: ModelOp[];
  /** The redactor's state after the part (null with --no-redact). */
  redactor: RedactorState | null;
}

/**
 * The helper's heap: small, since it adds to the main thread's peak RSS, which is within the
 * budget of a long incident's report only with this (at the cost of more collections here). Its
 * part needs little that lives: a page of events, a batch, and the few events the model keeps.
 * A part that needs more (huge events) makes it run out, and the main thread does that part.
 * A young generation of 8 MiB took about a fifth off this thread's CPU time when it ran alone, but
 * put the report of a million events at 118.5-120.5 MiB peak against 115-116 (3 runs each,
 * interleaved, on a busy machine): over the budget, and no faster there.
 */
const HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 };

/** A helper that ran out of its heap: the main thread reads its part instead. */
export class HelperOutOfMemory extends Error {}

/** The helper's module, next to this one in dist (bundled or not); absent when run from src. */
const HELPER = new URL('./timeline-helper.js', import.meta.url);

export function helperShipped(): boolean {
  return existsSync(fileURLToPath(HELPER));
}

/** A running helper: its result (rejected, with one line, if it fails or ends without one), and a way to stop it. */
export interface RunningHelper {
  result: Promise<TimelineResult>;
  stop(): Promise<void>;
}

/** A helper thread started ahead of its job: it loads its modules and opens the store meanwhile. */
export interface BootingHelper extends RunningHelper {
  /** Hands it its job (once); `result` then settles with what it did. */
  start(job: TimelineJob): void;
}

/**
 * Starts the helper thread before its job is known: starting a thread and loading what it needs
 * took about 130 ms of its part, which now overlaps the main thread's own start (the redactor, the
 * template, the severities).
 */
export async function bootHelper(boot: HelperBoot): Promise<BootingHelper> {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(HELPER, { workerData: boot, resourceLimits: HEAP });
  let ended = false;
  const result = new Promise<TimelineResult>((resolve, reject) => {
    let posted: TimelineResult | undefined;
    worker.once('message', (m: TimelineResult) => (posted = m));
    worker.once('error', (err) => {
      const line = String((err as Error)?.message ?? err).split('\n')[0];
      reject((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new HelperOutOfMemory(line) : new Error(`the postmortem helper thread failed: ${line}`));
    });
    worker.once('exit', (code) => {
      ended = true;
      if (posted) resolve(posted);
      else reject(new Error(`the postmortem helper thread exited with code ${code} and no result`));
    });
  });
  // Handled here too: a failure while the main thread is busy must not end the process on its own.
  result.catch(() => undefined);
  return {
    result,
    start: (job) => worker.postMessage(job),
    stop: async () => {
      if (!ended) await worker.terminate();
    },
  };
}
