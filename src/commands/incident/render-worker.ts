// The helper thread of `ir show`/`ir timeline` on a long incident: on its own read-only connection it
// outlines the stretches of the range the main thread has not taken yet (human form), then takes the
// next chunk of the timeline nobody has taken (parallel.ts cuts both), renders it to UTF-8 and hands
// it back, never more than `ahead` chunks ahead of what the main thread has written.

import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../../store/sqlite/driver.js';
import { Outliner, RangeRenderer, type ColumnWidths } from './range.js';
import { chunkBounds, NEXT_CHUNK, outlineStretches, RENDER_CACHE_PAGES, type RenderJob } from './parallel.js';

const job = workerData as RenderJob;
const port = parentPort!;

let acked = 0;
let widths: ColumnWidths | undefined;
let wake: (() => void) | undefined;
port.on('message', (m: { ack?: true; widths?: ColumnWidths }) => {
  if (m.ack) acked++;
  if (m.widths) widths = m.widths;
  wake?.();
});
const until = async (ready: () => boolean) => {
  while (!ready()) await new Promise<void>((resolve) => (wake = resolve));
};

// Read-only: this thread never writes, and rows up to job.last never change (append-only).
const db = openSqlite(job.path, 30_000, { readonly: true, fileMustExist: true });
try {
  db.pragma(`cache_size = ${RENDER_CACHE_PAGES}`);
  if (process.env.IR_TEST_RENDER_HELPER === 'fail') throw new Error('failing as IR_TEST_RENDER_HELPER=fail asks');
  // Loaded while the outline is taken; without colour, chalk is not loaded at all (as Context.style).
  const chalk = job.color ? import('chalk') : undefined;
  // The human form: the stretches of the outline still untaken, then the widths from both parts.
  if (!job.json) {
    const outliner = new Outliner(db, job.incidentId);
    outlineStretches(outliner, job);
    port.postMessage({ outline: outliner.part });
    await until(() => widths !== undefined);
  }
  let dim: ((text: string) => string) | undefined;
  if (chalk) {
    const style = new (await chalk).Chalk({ level: job.color as 1 | 2 | 3 });
    dim = (text) => style.dim(text);
  }
  const renderer = new RangeRenderer(db, job.incidentId, { json: job.json, widths, dim });
  let posted = 0;
  for (;;) {
    await until(() => posted - acked < job.ahead);
    const k = Atomics.add(job.next, NEXT_CHUNK, 1);
    if (k >= job.chunks) break;
    const bytes = renderer.render(...chunkBounds(job, k));
    port.postMessage({ k, bytes }, [bytes.buffer as ArrayBuffer]);
    posted++;
  }
  port.postMessage({ done: true });
} finally {
  db.close();
  // The port no longer holds the thread open: it ends once its last message is on its way.
  port.unref();
}
