// One writer process for the runs test (test/store/event-runs.test.ts): keeps one connection to the
// store, as a long runbook run does, and appends COUNT times to the incidents named, in a pattern
// of its own (now one event, now a few in one transaction), so that its appends interleave with
// other processes' and with its own appends to another incident.
import { SqliteDatabase } from '../../dist/store/sqlite/database.js';

const [, , path, worker, count, ids] = process.argv;
const incidents = ids.split(',');
const w = Number(worker);
const db = SqliteDatabase.open(path, { synchronous: 'NORMAL' });
try {
  for (let i = 0; i < Number(count); i++) {
    const id = incidents[(i * (w + 1) + (i >> 2) + w) % incidents.length];
    const n = 1 + ((i + w) % 5 === 0 ? (i % 3) + 1 : 0);
    db.append(id, () => Array.from({ length: n }, (_, k) => ({ type: 'note.added', data: { text: `w${w} ${i}.${k}` } })), new Date(), `writer-${w}`);
  }
} finally {
  db.close();
}
