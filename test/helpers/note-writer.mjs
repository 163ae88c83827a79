// One writer process for the concurrency test: appends COUNT notes through ir's own command path
// (argv in, a fresh Context and store each time, exactly as `ir note` does), without paying for
// 200 Node start-ups per process.
import { run } from '../../dist/main.js';

const [, , incident, worker, count] = process.argv;
const sink = { write: () => true };
let failures = 0;
for (let i = 0; i < Number(count); i++) {
  const errors = [];
  const code = await run(['note', `worker ${worker} note ${i}`, '--incident', incident], {
    io: { stdout: sink, stderr: { write: (s) => (errors.push(String(s)), true) }, stdin: process.stdin, env: process.env, cwd: process.cwd() },
  });
  if (code !== 0) {
    failures++;
    process.stderr.write(`worker ${worker} note ${i}: exit ${code}: ${errors.join('')}`);
  }
}
process.exitCode = failures ? 1 : 0;
