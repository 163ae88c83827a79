// Writes dist/bin/<piece>.cache, V8's compiled code for the program's pieces (see
// scripts/piece-loader.mjs): runs the built ir through the common commands on a scratch home with
// IR_BUILD_CODE_CACHE=1, each run adding what it compiled to the caches the runs before it wrote.
// The caches only make ir start faster: a command that fails here is reported and the build goes on.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'ir.js');
const dist = join(root, 'dist', 'bin');

// A cache from an earlier build is for pieces that are gone or changed: start from none.
for (const name of readdirSync(dist)) if (name.endsWith('.cache')) rmSync(join(dist, name));

const home = mkdtempSync(join(tmpdir(), 'ir-code-cache-'));
// Only what ir reads from its environment to run these commands; V8 rejects a cache made under
// other flags, so none come from NODE_OPTIONS either.
const env = { PATH: process.env.PATH, HOME: home, IR_HOME: home, IR_USER: 'build', NO_COLOR: '1', TZ: 'UTC', IR_BUILD_CODE_CACHE: '1' };
const runs = [
  ['--help'],
  ['declare', '--title', 'code cache', '--severity', 'SEV-4'],
  ['note', 'code cache'],
  ['note', '--json', 'code cache'],
  ['status'],
  ['status', '--json'],
  ['timeline'],
  ['timeline', '--json'],
  ['show'],
  ['postmortem', '--draft', '--out', 'postmortem.md'],
  // Again: the first compiled the template (the whole of Handlebars), this one runs it (its runtime).
  ['postmortem', '--draft', '--out', 'postmortem.md'],
  ['list'],
  ['runbook', 'list'],
  ['runbook', 'show', 'redis-failure'],
  ['runbook', 'redis-failure', '--dry-run'],
  ['runbook', 'validate', join(root, 'runbooks')],
  ['note', 'code cache, once more'],
];
try {
  let failed = 0;
  for (const args of runs) {
    const r = spawnSync(process.execPath, [bin, ...args], { env, cwd: home, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) {
      failed++;
      console.warn(`code-cache: ir ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || '').split('\n')[0]}`);
    }
  }
  const written = readdirSync(dist).filter((n) => n.endsWith('.cache')).length;
  if (failed || !written) console.warn(`code-cache: ${written} pieces have a code cache; ir works without one, only starts slower`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
