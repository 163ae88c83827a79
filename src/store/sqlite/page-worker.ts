// The page helper thread (pages.ts): once started, it waits for the main thread to say after which
// seq to go on, then reads the incident's events from there on its own read-only connection, page
// after page as JSON texts, never more than `ahead` pages ahead of what the main thread has taken.

import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { openSqlite } from './driver.js';
import { GO, HANDOVER_AFTER, HANDOVER_STATE, HANDOVER_TAKEN, ODD_DATA_SQL, pageSql, READY, type PageJob, type PageMessage, type PagePart } from './pages.js';
import { spans } from './spans.js';

const job = workerData as PageJob;
const port = parentPort!;
const post = (m: PageMessage) => port.postMessage(m);

try {
  const db = openSqlite(job.path, 30_000, { readonly: true, fileMustExist: true });
  try {
    // Each row is read once, in order: only the index's inner pages are worth keeping.
    db.pragma('cache_size = 256');
    const stmt = db.prepare(pageSql(job.prev, job.own)).raw(true);
    // A stretch where no event's data is other than JSON (nearly always) is read without checking each.
    let odd: BetterSqlite3.Statement | undefined;
    try {
      odd = db.prepare(ODD_DATA_SQL);
    } catch {
      // A store without schema 12's index (another ir's, not migrated): every event is checked.
    }
    const clean = odd ? db.prepare(pageSql(job.prev, job.own, true)).raw(true) : undefined;
    type Part = [rows: string, data: string | null, n: number, max: number | null];
    // One part, read without checking each event's data, and again with it if the seqs it covers hold
    // one whose data is not JSON (asked of those seqs alone: after an incident's last event may lie
    // any number of others'); both in one transaction, so both see the same rows.
    const readPart = db.transaction((from: number, hi: number, want: number): Part => {
      const part = (clean ?? stmt).get(job.incidentId, from, hi, want) as Part;
      if (!clean || part[3] === null || odd!.get(job.incidentId, from, part[3]) === undefined) return part;
      return stmt.get(job.incidentId, from, hi, want) as Part;
    });
    // Ready: the main thread reads pages of its own until it sees this, then says where to go on from.
    // A thread of its own may block, and this one has nothing else to do meanwhile.
    Atomics.store(job.handover, HANDOVER_STATE, READY);
    while (Atomics.load(job.handover, HANDOVER_STATE) !== GO) Atomics.wait(job.handover, HANDOVER_STATE, READY);
    const after = Number(Atomics.load(job.handover, HANDOVER_AFTER));
    let parts: PagePart[] = [];
    let count = 0;
    let last = after;
    let sent = 0;
    const send = () => {
      // Blocking is fine here: this thread has nothing else to do until the main thread takes a page.
      for (let taken; sent - Number((taken = Atomics.load(job.handover, HANDOVER_TAKEN))) >= job.ahead; ) Atomics.wait(job.handover, HANDOVER_TAKEN, taken);
      if (sent++ === 1 && process.env.IR_TEST_PAGE_HELPER === 'fail') throw new Error('failing as IR_TEST_PAGE_HELPER=fail asks');
      post({ parts, count, last });
      parts = [];
      count = 0;
    };
    for (const [lo, hi] of spans(db, job.incidentId, after + 1)) {
      for (let from = Math.max(lo, last + 1); from <= hi; ) {
        const want = job.batch - count;
        const [rows, data, n, max] = readPart(from, hi, want);
        if (!n || data === null || max === null) break;
        parts.push({ rows, data });
        count += n;
        last = max;
        from = max + 1;
        if (count >= job.batch) send();
        if (n < want) break;
      }
    }
    if (count) send();
    post({ done: true });
  } finally {
    db.close();
  }
} catch (err) {
  post({ error: (err as Error).message });
}
