#!/usr/bin/env node
// `npm test` runs this first: the suite drives real programs (sqlite3, tmux, redis-server, PostgreSQL,
// kubectl), so on a fresh Debian machine it installs the missing ones when it can (root + apt-get),
// and otherwise stops at once with the one line that would install them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const pgServer = () => onPath('initdb') || (existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)));

// What the tests run, and the Debian package that provides it.
const needs = [
  ['sqlite3', 'sqlite3', () => onPath('sqlite3')],
  ['tmux', 'tmux', () => onPath('tmux')],
  ['redis-server', 'redis-server', () => onPath('redis-server')],
  ['redis-cli', 'redis-tools', () => onPath('redis-cli')],
  ['psql', 'postgresql-client', () => onPath('psql')],
  ['initdb/pg_ctl', 'postgresql', pgServer],
  // The completion scripts are loaded by the shells themselves.
  ['zsh', 'zsh', () => onPath('zsh')],
  ['fish', 'fish', () => onPath('fish')],
];

const missing = needs.filter(([, , present]) => !present());
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map(([, pkg]) => pkg))];
const what = missing.map(([cmd]) => cmd).join(', ');
const canInstall = process.getuid?.() === 0 && onPath('apt-get') && process.env.IR_TEST_NO_INSTALL !== '1';
if (!canInstall) {
  console.error(`npm test needs ${what}: install with \`sudo apt-get install -y ${packages.join(' ')}\` (or run npm test as root to let it install them)`);
  process.exit(1);
}
console.error(`npm test: installing ${packages.join(' ')} (needed: ${what})`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
} catch {
  console.error(`npm test: apt-get could not install ${packages.join(' ')}; install them and run npm test again`);
  process.exit(1);
}
// Debian starts the packaged services on install; the tests start their own on loopback.
for (const svc of ['redis-server', 'postgresql']) spawnSync('service', [svc, 'stop'], { stdio: 'ignore' });
const still = missing.filter(([, , present]) => !present());
if (still.length) {
  console.error(`npm test: still missing after install: ${still.map(([cmd]) => cmd).join(', ')}`);
  process.exit(1);
}
