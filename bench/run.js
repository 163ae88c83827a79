// `npm run bench`: every benchmark in one run, printed as a table and as JSON (BENCH_JSON=1).
import { startup } from './startup.js';
import { runbooks } from './runbooks.js';
import { postmortem } from './postmortem.js';
import { evidence } from './evidence.js';
import { append } from './append.js';
import { incidents } from './incidents.js';

const results = [await startup(), await runbooks(), await append(), await postmortem(), await evidence(), await incidents()];
if (process.env.BENCH_JSON) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const r of results) {
    console.log(`# ${r.benchmark} (${r.rounds} rounds, medians)`);
    for (const row of r.rows) {
      // A row that could not be measured here (no PostgreSQL) says why instead of a time.
      if (row.median_ms === null) {
        console.log(`${row.name.padEnd(34)} ${'-'.padStart(8)}     ${row.detail ?? 'not measured'}`);
        continue;
      }
      const ratio = row.ratio !== undefined ? `  ${row.ratio.toFixed(2)}x node -e 0` : '';
      const target = row.target ? `  (target ${row.target}x: ${row.met ? 'met' : 'MISSED'})` : row.target_ms ? `  (target ${row.target_ms} ms: ${row.met ? 'met' : 'MISSED'})` : '';
      const extra = `${row.detail ? `  ${row.detail}` : ''}${row.cpu_ratio !== undefined ? `  cpu ${row.cpu_ms} ms mean (${row.cpu_ratio.toFixed(2)}x)` : ''}`;
      console.log(`${row.name.padEnd(34)} ${String(row.median_ms).padStart(8)} ms${ratio}${target}${extra}`);
    }
  }
}
