// The helper thread of `ir postmortem` on a long incident: while the main thread folds the first
// part of the timeline, this thread takes the rest on its own read-only connection — reads, redacts
// (starting from the main thread's redactor, as if it had done the first part and found nothing
// there), writes the timeline rows to a scratch file, and hands back what the report's model needs
// as ModelOps. The main thread keeps this work only when that assumption held (report-helper.ts).

import { parentPort, workerData } from 'node:worker_threads';
import type { TimelineEvent } from '../core/incident.js';
import type { Redactor } from '../redact/redactor.js';
import { openSqlite } from '../store/sqlite/driver.js';
import { eventRange } from '../store/sqlite/range.js';
import { ModelCompactor, redactEvents, timelineItem, timelineRows } from './model.js';
import type { HelperBoot, TimelineJob, TimelineResult } from './report-helper.js';
import { rowsFile } from './rows-file.js';
import { compileRow, templateAround } from './template.js';

const boot = workerData as HelperBoot;
// While the main thread gets its redactor and template ready: this thread's modules load (the
// imports above), the redactor's too if it will need it, and the store opens.
const redactorModule = import('../redact/redactor.js');
redactorModule.catch(() => undefined);
// Read-only: this thread must never be the one that writes.
const db = openSqlite(boot.path, 30_000, { readonly: true, fileMustExist: true });
// SQLite's own default page cache, as the main connection has (database.ts): the rows are read once, in order.
db.pragma('cache_size = -2000');
const job = await new Promise<TimelineJob>((resolve) => parentPort!.once('message', resolve));

async function main(): Promise<TimelineResult> {
  // Rows of plain fields are printed from their parts, as the main thread prints them, without
  // loading Handlebars here; other rows need the compiled template.
  const row = job.template.row;
  const split = row ? undefined : await templateAround(job.template.file, 'timeline', job.template.cwd, job.template.cacheDir, job.template.fields);
  if (!row && !split) throw new Error('the template could not be cut around its timeline rows');
  const rowOf = row ? timelineRows(compileRow(row, job.template.fields)) : (e: TimelineEvent) => split!.item(timelineItem(e));
  let redactor: Redactor | undefined;
  if (job.redact) {
    const { Redactor } = await redactorModule;
    redactor = new Redactor(job.redact.patterns);
    redactor.restore(job.redact.state);
  }
  const rowsOut = rowsFile(job.rowsFile);
  const compactor = new ModelCompactor();
  const result: TimelineResult = { count: 0, firstAt: null, inOrder: true, lastSeq: null, ops: compactor.ops, redactor: null };
  try {
    let newest = '';
    let batch: TimelineEvent[] = [];
    // As the main thread's flush in postmortem.ts, over batches that fall where its own would.
    const flush = async () => {
      await redactEvents(batch, redactor);
      let text = '';
      for (const e of batch) {
        compactor.add(e);
        text += rowOf(e);
      }
      if (text) rowsOut.write(text);
      batch = [];
    };
    read: for (const page of eventRange(db, job.incidentId, job.from, job.to)) {
      for (const e of page) {
        if (e.at < newest) {
          // Out of order: the main thread reads the whole timeline twice instead; nothing here is used.
          result.inOrder = false;
          break read;
        }
        newest = e.at;
        result.firstAt ??= e.at;
        result.count++;
        result.lastSeq = e.seq;
        batch.push(e);
        if (batch.length >= job.batch) await flush();
      }
    }
    if (result.inOrder) {
      await flush();
      compactor.flush();
      if (redactor) result.redactor = redactor.state();
    }
  } finally {
    rowsOut.close();
    db.close();
  }
  return result;
}

const done = await main();
parentPort?.postMessage(done);
