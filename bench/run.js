// `npm run bench`: every benchmark in one run, printed as a table and as JSON (BENCH_JSON=1).
import { startup } from './startup.js';

const results = [startup()];
if (process.env.BENCH_JSON) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const r of results) {
    console.log(`# ${r.benchmark} (${r.rounds} rounds, medians, ratio to \`node -e 0\`)`);
    for (const row of r.rows) {
      console.log(`${row.name.padEnd(14)} ${String(row.median_ms).padStart(7)} ms  ${row.ratio.toFixed(2)}x${row.target ? `  (target ${row.target}x: ${row.met ? 'met' : 'MISSED'})` : ''}`);
    }
  }
}
