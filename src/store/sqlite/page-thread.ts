// This thread's side of reading an incident's pages on a helper thread (pages.ts). The helper starts
// as soon as the pages are asked for, and until it is ready this thread reads pages itself; then it
// hands over from the last seq it read, so neither thread waits for the other's start. Should the
// helper fail, or send a page that does not read, this thread reads on itself from the last page
// taken: the reader sees the same events either way.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { TimelineEvent } from '../../core/incident.js';
import { holdYoungGeneration } from '../../util/young-generation.js';
import { parseEventData } from '../chain.js';
import { GO, HANDOVER_AFTER, HANDOVER_STATE, HANDOVER_TAKEN, pageEvents, READY, STARTING, type PageJob, type PageMessage } from './pages.js';

/** The helper thread's module, next to this one in dist (bundled or not); absent when run from src. */
const HELPER = new URL('./page-worker.js', import.meta.url);

/** Pages the helper reads ahead: enough to ride out a pause of either thread, few enough to keep memory flat. */
const AHEAD = 8;

/** Whether the helper thread's module was built (it is not when ir runs from its sources). */
export function pageHelperShipped(): boolean {
  return existsSync(fileURLToPath(HELPER));
}

/** Pages read on a helper thread, with how many were read there and how many here (IR_DEBUG says, tests read it). */
export interface ThreadPages extends AsyncIterable<TimelineEvent[]> {
  readonly read: { helper: number; here: number };
}

/**
 * The incident's events, a page at a time, read on a helper thread once it is ready; `ownPage(after)`
 * reads the page after seq `after` on this thread (before the hand-over, and after a failure). For
 * tests, IR_TEST_PAGE_HELPER holds this thread's reads until the helper is ready, so that the helper
 * reads every page (=all), fails after its first (=fail, page-worker.ts), or sends a second page that
 * does not read here (=garble).
 */
export function threadPages(job: Omit<PageJob, 'ahead' | 'handover'>, ownPage: (after: number) => TimelineEvent[]): ThreadPages {
  const read = { helper: 0, here: 0 };
  const handover = new BigInt64Array(new SharedArrayBuffer(24));
  Atomics.store(handover, HANDOVER_STATE, STARTING);
  const queue: PageMessage[] = [];
  let wake: (() => void) | undefined;
  let failed: string | undefined;
  let worker: Worker | undefined;
  const arrived = () => {
    wake?.();
    wake = undefined;
  };
  // Started now, before the caller's next await: a dynamic import of node:worker_threads settled
  // only once the reader had loaded its own modules (about 6 ms later), and the helper started that
  // much later.
  try {
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const w = new Worker(HELPER, { workerData: { ...job, ahead: AHEAD, handover } satisfies PageJob, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    // Not holding the process open while nobody waits for it: a command that never reads its pages still ends.
    w.unref();
    w.on('message', (m: PageMessage) => {
      queue.push(m);
      arrived();
    });
    w.on('error', (err) => {
      failed ??= err.message;
      arrived();
    });
    w.on('exit', (code) => {
      failed ??= `the page helper thread exited with code ${code}`;
      arrived();
    });
    worker = w;
  } catch (err) {
    failed = (err as Error).message;
  }
  const next = async (): Promise<PageMessage> => {
    while (!queue.length) {
      if (failed !== undefined || !worker) return { error: failed ?? 'the page helper thread did not start' };
      worker.ref();
      try {
        await new Promise<void>((resolve) => (wake = resolve));
      } finally {
        worker.unref();
      }
    }
    return queue.shift()!;
  };
  const test = process.env.IR_TEST_PAGE_HELPER;
  /** The page's events, or undefined if it does not read (this thread then reads on by itself). */
  const readPage = (m: Extract<PageMessage, { parts: unknown }>, n: number): TimelineEvent[] | undefined => {
    try {
      if (test === 'garble' && n === 1) throw new Error('garbled as IR_TEST_PAGE_HELPER=garble asks');
      return pageEvents(m.parts, job.incidentId, job.prev, job.own, parseEventData);
    } catch {
      return undefined;
    }
  };
  const stop = () => void worker?.terminate();
  return {
    read,
    async *[Symbol.asyncIterator]() {
      let last = 0;
      // This thread's own pages, all of them if the helper fails, or until it is ready.
      const own = function* (until: () => boolean) {
        for (;;) {
          if (until()) return true;
          const page = ownPage(last);
          read.here++;
          if (page.length) yield page;
          if (page.length < job.batch) return false;
          last = page[page.length - 1].seq;
        }
      };
      try {
        // Tests see the helper at work however fast this thread is: it reads nothing before the helper is ready.
        if (test) while (failed === undefined && Atomics.load(handover, HANDOVER_STATE) !== READY) await new Promise((resolve) => setTimeout(resolve, 5));
        // Until the helper is ready (a synchronous look: a worker's message waits for a turn of the event loop).
        if (!(yield* own(() => failed !== undefined || Atomics.load(handover, HANDOVER_STATE) === READY)) || failed !== undefined) {
          if (failed !== undefined) yield* own(() => false);
          return;
        }
        Atomics.store(handover, HANDOVER_AFTER, BigInt(last));
        Atomics.store(handover, HANDOVER_STATE, GO);
        Atomics.notify(handover, HANDOVER_STATE);
        for (let pages = 0; ; pages++) {
          const m = await next();
          if ('done' in m) return;
          const events = 'error' in m ? undefined : readPage(m, pages);
          if (!events) {
            stop();
            yield* own(() => false);
            return;
          }
          Atomics.add(handover, HANDOVER_TAKEN, 1n);
          Atomics.notify(handover, HANDOVER_TAKEN);
          // A long read is what grows this thread's young generation past any use (young-generation.ts).
          if ((read.helper & 15) === 0) holdYoungGeneration();
          read.helper++;
          last = (m as { last: number }).last;
          yield events;
        }
      } finally {
        stop();
      }
    },
  };
}
