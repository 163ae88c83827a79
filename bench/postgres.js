// A throwaway PostgreSQL on loopback for benchmarks, started the way test/helpers/services.ts starts
// it (initdb into a temp dir, a free port, the postgres user when run as root), but with fsync on:
// a benchmark of durable appends must pay for durability. Resolves to undefined with a reason when
// no server can be started here.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function bin(name) {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
      const p = join(root, v, 'bin', name);
      if (existsSync(p)) return p;
    }
  }
  return name;
}

const asRoot = process.getuid?.() === 0;
const run = (argv) => (asRoot ? ['su', ['postgres', '-s', '/bin/sh', '-c', argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')]] : [argv[0], argv.slice(1)]);

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/** { url, stop } or { skipped: reason }. */
export async function startBenchPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'ir-bench-pg-'));
  const password = `bench-${process.pid}`;
  try {
    const port = await freePort();
    const pw = join(dir, 'pw');
    writeFileSync(pw, password);
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
      chownSync(pw, uid, gid);
    }
    chmodSync(dir, 0o700);
    const data = join(dir, 'data');
    const init = run([bin('initdb'), '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pw}`, '-E', 'UTF8', '--no-instructions']);
    execFileSync(init[0], init[1], { stdio: 'ignore' });
    const start = run([bin('pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`, 'start']);
    execFileSync(start[0], start[1], { stdio: 'ignore' });
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      stop: () => {
        const stop = run([bin('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
        spawnSync(stop[0], stop[1], { stdio: 'ignore' });
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { skipped: `PostgreSQL could not start here (${err.message.split('\n')[0]})` };
  }
}
