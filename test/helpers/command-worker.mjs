// One mixed-command process for the team concurrency test: runs a list of ir command lines through
// ir's own command path (a fresh Context and store each, as the binary does) and prints, as one JSON
// document, each command's exit code and stderr. "$LAST" in an argument is the id of the incident
// this worker declared most recently (from `declare --json`).
import { readFileSync } from 'node:fs';
import { run } from '../../dist/main.js';

const steps = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = [];
let last = '';
for (const step of steps) {
  const args = step.map((a) => a.replaceAll('$LAST', last));
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    io: {
      stdout: { write: (s) => ((stdout += String(s)), true) },
      stderr: { write: (s) => ((stderr += String(s)), true) },
      stdin: process.stdin,
      env: process.env,
      cwd: process.cwd(),
    },
  });
  if (code === 0 && args.includes('declare')) last = JSON.parse(stdout).id;
  results.push({ args, code, stderr });
}
process.stdout.write(JSON.stringify(results));
