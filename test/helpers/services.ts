// Real servers on loopback for tests: redis-server and PostgreSQL, each on a free port in a temp dir.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface RedisServer {
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(opts: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ir-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  if (opts.password) args.push('--requirepass', opts.password);
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  // A missing binary is an 'error' event: surface it as this start's failure, not an uncaught one.
  const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`redis-server could not start: ${err.message} (npm test installs it; or: apt-get install -y redis-server redis-tools)`))));
  failed.catch(() => undefined);
  const ping = () => {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'], { encoding: 'utf8', env: { ...process.env, REDISCLI_AUTH: opts.password ?? '' } });
    return /PONG/.test(r.stdout);
  };
  try {
    await Promise.race([until(`redis-server on ${port}`, ping), failed]);
  } catch (err) {
    if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PostgresServer {
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
  /** Stops the server and keeps its data (the network is the incident); `restart` brings it back on the same port. */
  halt(): void;
  restart(): Promise<void>;
}

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const p = join(root, v, 'bin', name);
      if (existsSync(p)) return p;
    }
  }
  return name;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user. */
function asServerUser(argv: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [argv[0], argv.slice(1)];
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['su', ['postgres', '-s', '/bin/sh', '-c', quoted]];
}

export async function startPostgres(): Promise<PostgresServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ir-pg-'));
  const data = join(dir, 'data');
  const password = 'ir-test-pw-7731';
  const pwfile = join(dir, 'pw');
  execFileSync('sh', ['-c', `printf '%s' '${password}' > '${pwfile}'`]);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  chmodSync(dir, 0o700);
  const [initCmd, initArgs] = asServerUser([pgBin('initdb'), '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-instructions']);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const [ctlCmd, ctlArgs] = asServerUser([
    pgBin('pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-w', '-t', '30',
    '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=30`, 'start',
  ]);
  execFileSync(ctlCmd, ctlArgs, { stdio: 'ignore' });
  const halt = () => {
    const [stopCmd, stopArgs] = asServerUser([pgBin('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
    spawnSync(stopCmd, stopArgs, { stdio: 'ignore' });
  };
  const ready = () => spawnSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t', '-c', 'SELECT 1'], { env: { ...process.env, PGPASSWORD: password }, encoding: 'utf8' }).stdout.trim() === '1';
  await until(`postgres on ${port}`, ready);
  return {
    port,
    user: 'postgres',
    password,
    halt,
    restart: async () => {
      execFileSync(ctlCmd, ctlArgs, { stdio: 'ignore' });
      await until(`postgres on ${port}`, ready);
    },
    stop: async () => {
      const [stopCmd, stopArgs] = asServerUser([pgBin('pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      spawnSync(stopCmd, stopArgs, { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** SQL as the server's superuser would run it by hand; psql variables carry the values. */
export function psql(server: PostgresServer, database: string, sql: string, vars: Record<string, string> = {}): string {
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-U', server.user, '-d', database, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1'];
  for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
  return execFileSync('psql', args, { input: sql, encoding: 'utf8', env: { ...process.env, PGPASSWORD: server.password } });
}

/**
 * Starts several servers at once. If any fails, the ones that did start are stopped before the
 * error is thrown: a suite whose setup failed must not leave a PostgreSQL running behind it.
 */
export async function startAll<T extends Record<string, () => Promise<{ stop(): Promise<void> }>>>(
  starters: T,
): Promise<{ [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  const names = Object.keys(starters);
  const settled = await Promise.allSettled(names.map((n) => starters[n]()));
  const failures = settled.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${(r.reason as Error)?.message ?? r.reason}`] : []));
  if (failures.length) {
    await Promise.allSettled(settled.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw new Error(`test services failed to start (the others were stopped): ${failures.join('; ')}`);
  }
  return Object.fromEntries(names.map((n, i) => [n, (settled[i] as PromiseFulfilledResult<unknown>).value])) as { [K in keyof T]: Awaited<ReturnType<T[K]>> };
}

/** A new empty database on the server and its URL with the password in it, as a user would write it. */
export function createDatabase(server: PostgresServer, name: string): string {
  psql(server, 'postgres', `CREATE DATABASE ${name};`);
  return `postgresql://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${name}`;
}

/**
 * A loopback port that accepts connections and never answers: a server that is "there" but hung
 * (or a firewall that swallows packets), which only a connect timeout gets a client out of.
 */
export async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}
