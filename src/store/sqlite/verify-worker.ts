// A helper thread of `ir timeline --verify` on a long incident: checks the links, hashes and JSON
// of one stretch of its chain (and folds the record, for the first) on its own connection while
// another thread takes the next stretch, and posts back a StretchSummary.

import { parentPort, workerData } from 'node:worker_threads';
import { ChainStretch, summarize } from '../chain.js';
import { openSqlite } from './driver.js';
import { walkStretch } from './stretch.js';

const job = workerData as { path: string; incidentId: string; from: number; to: number; start: boolean; fold: boolean; keep?: number };
// Read-only: this thread must never be the one that writes, and rows up to `to` never change
// (append-only), so every connection's snapshot agrees on them.
const db = openSqlite(job.path, 30_000, { readonly: true, fileMustExist: true });
try {
  const stretch = new ChainStretch(job.incidentId, { start: job.start, fold: job.fold, keep: job.keep });
  walkStretch(db, job.incidentId, job.from, job.to, stretch);
  parentPort?.postMessage(summarize(stretch));
} finally {
  db.close();
}
