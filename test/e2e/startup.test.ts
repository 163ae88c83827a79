// The start-up path stays light: --version and --help load none of the heavy modules, and neither
// store driver (better-sqlite3, pg); a command on the team store loads pg but not Node's fetch;
// `ir status` with its caches warm initialises no Intl formatter.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { BIN, ir, irEnv, json, ROOT, tempHome } from '../helpers/cli.js';
import { loadedModules } from '../helpers/trace.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

// `/node_modules/pg` also matches its own packages (pg-pool, pg-protocol, pg-types…).
const HEAVY = ['better-sqlite3', 'pg', '@inquirer', 'ora', '@kubernetes/client-node', 'ajv', 'handlebars', 'yaml', 'execa', 'chalk', 'tar'];

describe('start-up cost', () => {
  let home: string;
  let cleanup: () => void;
  let server: PostgresServer | undefined;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(async () => {
    cleanup();
    await server?.stop();
  });

  const loaded = (args: string[], env: Record<string, string> = {}) => loadedModules(home, args, env);

  const heavyIn = (urls: string[]) => HEAVY.filter((h) => urls.some((u) => u.includes(`/node_modules/${h}`)));
  /** Node's fetch implementation, which Node loads on first use of a fetch global such as Response. */
  const fetchIn = (urls: string[]) => urls.some((u) => u.startsWith('node:internal/deps/undici'));

  it('ir --version loads nothing heavy (not even commander)', () => {
    const urls = loaded(['--version']);
    expect(heavyIn(urls)).toEqual([]);
    expect(fetchIn(urls)).toBe(false);
    expect(urls.some((u) => /\/dist\/bin\/program-/.test(u) || u.includes('/node_modules/commander'))).toBe(false);
  });

  it('ir --help loads the command tree but nothing heavy', () => {
    const urls = loaded(['--help']);
    // commander is bundled into the program chunk, which --version never loads.
    expect(urls.some((u) => /\/dist\/bin\/program-[A-Z0-9]+\.cjs$/.test(u))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
    expect(fetchIn(urls)).toBe(false);
  });

  it('--version and --help with IR_STORE naming the team store load neither driver', () => {
    const env = { IR_STORE: 'postgres://nobody@127.0.0.1:1/ir' };
    for (const args of [['--version'], ['--help'], ['note', '--help']]) expect(heavyIn(loaded(args, env)), args.join(' ')).toEqual([]);
  });

  it('markdown-it is loaded by ir runbook import only: not by --help, nor by the other runbook commands', () => {
    const md = (urls: string[]) => urls.some((u) => u.includes('/node_modules/markdown-it/'));
    for (const args of [['--help'], ['runbook', '--help'], ['runbook', 'list'], ['runbook', 'show', 'redis-failure'], ['runbook', 'validate', join(ROOT, 'runbooks')]]) expect(md(loaded(args)), args.join(' ')).toBe(false);
    const playbook = join(ROOT, 'test', 'fixtures', 'playbooks', 'obsidian-kafka-consumer-lag.md');
    expect(md(loaded(['runbook', 'import', playbook, '--out', join(home, 'imported'), '--dry-run']))).toBe(true);
  });

  /** The command modules (src/commands/…) whose code was loaded: esbuild names each in its chunk. */
  const commandModules = (urls: string[]) =>
    [...new Set(urls.filter((u) => u.startsWith('file:') && u.includes('/dist/bin/')).flatMap((u) => readFileSync(fileURLToPath(u), 'utf8').match(/^\/\/ dist\/commands\/\S+/gm) ?? []))]
      .map((line) => line.slice('// dist/commands/'.length))
      .sort();

  it('ir --help lists every command without loading their modules; a command loads its own module only', () => {
    const own = tempHome();
    try {
      const traced = (args: string[]) => loadedModules(own.home, args);
      expect(commandModules(traced(['--help']))).toEqual(['index.js']);
      traced(['declare', '-t', 'modules', '-s', 'SEV-4']);
      // note shares mutate with the other timeline commands; the renderers only with --json; nothing of declare, runbook, evidence…
      expect(commandModules(traced(['note', 'which modules']))).toEqual(['incident/mutate.js', 'incident/note.js', 'index.js']);
      expect(commandModules(traced(['note', '--json', 'which modules']))).toEqual(['incident/mutate.js', 'incident/note.js', 'incident/range.js', 'incident/render.js', 'index.js', 'regime/render.js']);
      expect(commandModules(traced(['runbook', 'show', 'redis-failure'])).filter((m) => !m.startsWith('runbook/'))).toEqual(['index.js']);
    } finally {
      own.cleanup();
    }
  });

  it('the runbook commands load neither ajv (the schema validator is compiled at build time) nor handlebars, the k8s client or a store driver', () => {
    const runbookHeavy = ['ajv', 'handlebars', '@kubernetes/client-node', 'pg', 'better-sqlite3', '@inquirer', 'ora', 'execa', 'tar'];
    const dir = `${ROOT}/runbooks`;
    for (const args of [['runbook', 'show', 'redis-failure'], ['runbook', 'redis-failure', '--dry-run'], ['runbook', 'list'], ['runbook', 'validate', dir]]) {
      const urls = loaded(args, { KUBECONFIG: '' });
      expect(runbookHeavy.filter((h) => urls.some((u) => u.includes(`/node_modules/${h}/`))), args.join(' ')).toEqual([]);
    }
  });

  it('with its cache warm (same files, same ir), a runbook command does not load the YAML parser', () => {
    const dir = `${ROOT}/runbooks`;
    for (const args of [['runbook', 'show', 'tls-certificate-expiry'], ['runbook', 'list'], ['runbook', 'validate', dir], ['status']]) {
      loaded(args);
      expect(heavyIn(loaded(args)), args.join(' ')).not.toContain('yaml');
    }
    // Without colour (NO_COLOR here) nothing loads chalk either.
    expect(heavyIn(loaded(['status']))).not.toContain('chalk');
    expect(heavyIn(loaded(['runbook', 'show', 'tls-certificate-expiry']))).not.toContain('chalk');
  });

  it('with its cache warm, ir status uses no Intl (ICU locale data): zone, label and local times as Intl gives them', () => {
    const own = tempHome();
    try {
      expect(ir(own.home, ['declare', '-t', 'zones', '-s', 'SEV-4']).code).toBe(0);
      const declaredAt = new Date(json<{ incidents: { declared_at: string }[] }>(ir(own.home, ['status', '--json'])).incidents[0].declared_at);
      // What the board printed before the cache, straight from Intl in the zone TZ names.
      const expected = (tz: string) => {
        const short = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'short' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value;
        const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(declaredAt).map((x) => [x.type, x.value]));
        return { label: `Times in ${tz}${short && short !== tz ? ` (${short})` : ''}`, time: `${p.hour}:${p.minute}` };
      };
      const board = (tz: string) => ir(own.home, ['status'], { env: { TZ: tz } }).stdout;
      // Each zone after another one's entry is cached: a cached label never answers for another zone.
      for (const tz of ['Asia/Tokyo', 'Europe/Paris', 'America/St_Johns', 'Asia/Tokyo']) {
        const cold = board(tz);
        const intl = loadedModules(own.home, ['status'], { TZ: tz }).filter((u) => u.startsWith('intl:'));
        expect(intl, tz).toEqual([]);
        const warm = board(tz);
        const { label, time } = expected(tz);
        expect([cold.split('\n')[0], warm.split('\n')[0]], tz).toEqual([label, label]);
        for (const out of [cold, warm]) expect(out, tz).toMatch(new RegExp(`INC-\\S+\\s+SEV-4\\s+investigating\\s+(\\d\\d-\\d\\d )?${time}\\s`));
      }
      // An unknown TZ reads as UTC, as Node itself does; so does an empty one (which ICU calls Etc/Unknown).
      for (const tz of ['Nowhere/Atlantis', '', ':']) {
        const first = ir(own.home, ['status'], { env: { TZ: tz } });
        expect(first.stderr, JSON.stringify(tz)).toBe('');
        expect([first.stdout.split('\n')[0], board(tz).split('\n')[0]], JSON.stringify(tz)).toEqual(['Times in UTC', 'Times in UTC']);
        expect(board(tz)).toMatch(new RegExp(`INC-\\S+\\s+SEV-4\\s+investigating\\s+(\\d\\d-\\d\\d )?${declaredAt.toISOString().slice(11, 16)}\\s`));
      }
    } finally {
      own.cleanup();
    }
  });

  it('the tracer does see heavy modules when a command needs them', () => {
    loaded(['declare', '-t', 'trace', '-s', 'SEV-4']);
    const urls = loaded(['note', 'traced']);
    expect(heavyIn(urls)).toContain('better-sqlite3');
    expect(heavyIn(urls)).not.toContain('pg');
    expect(heavyIn(urls)).not.toContain('@inquirer');
  });

  it('ir note runs better-sqlite3 from the bundle with its addon by path: no `bindings` package, none of the driver\'s own files, no ESM scan of them', () => {
    const own = tempHome();
    let urls: string[];
    let builtins: string[];
    try {
      loadedModules(own.home, ['declare', '-t', 'addon', '-s', 'SEV-4']);
      urls = loadedModules(own.home, ['note', 'addon']);
      // Node's own list, from a run without the tracer: its hooks have Node load even a CommonJS entry
      // through the ES module loader, which scans it for exports.
      builtins = builtinsOf(own.home, ['note', 'addon, untraced']).builtins;
    } finally {
      own.cleanup();
    }
    expect(urls.some((u) => u.endsWith('/node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    expect(urls.filter((u) => u.includes('/node_modules/bindings/') || u.includes('/node_modules/file-uri-to-path/'))).toEqual([]);
    expect(builtins).not.toContain('NativeModule internal/deps/cjs-module-lexer/lexer');
    expect(urls.filter((u) => u.startsWith('file:') && u.includes('/node_modules/better-sqlite3/lib/'))).toEqual([]);
  });

  it('ir --help and ir note load no child_process (commander gets it only if it ever runs a subcommand executable)', () => {
    for (const args of [['--help'], ['note', '--help']]) expect(loaded(args), args.join(' ')).not.toContain('node:child_process');
    const own = tempHome();
    try {
      loadedModules(own.home, ['declare', '-t', 'no child_process', '-s', 'SEV-4']);
      expect(loadedModules(own.home, ['note', 'no child_process'])).not.toContain('node:child_process');
      // Without IR_USER the actor comes from git, which does need it.
      expect(loadedModules(own.home, ['note', 'as git says'], { IR_USER: '' })).toContain('node:child_process');
    } finally {
      own.cleanup();
    }
  });

  it('ir note loads no node:crypto (its few hashes are computed in JavaScript), and timeline --verify of its events still passes', () => {
    const own = tempHome();
    try {
      loadedModules(own.home, ['declare', '-t', 'no crypto', '-s', 'SEV-4']);
      expect(loadedModules(own.home, ['note', 'hashed without node:crypto'])).not.toContain('node:crypto');
      expect(ir(own.home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      own.cleanup();
    }
  });

  /**
   * Node's own list of the built-in modules a run of ir loaded, written at exit by a preload (the
   * tracer's loader thread loads net itself), with stdout a file or a pipe and stdin, stderr pipes.
   */
  const builtinsOf = (home: string, args: string[], { stdout = 'file', status = 0, env = {} }: { stdout?: 'file' | 'pipe'; status?: number; env?: Record<string, string | undefined> } = {}) => {
    const preload = join(home, 'builtins.cjs');
    writeFileSync(preload, "process.on('exit', () => require('node:fs').writeFileSync(process.env.IR_BUILTINS_FILE, process.moduleLoadList.join('\\n')));\n");
    const list = join(home, 'builtins.txt');
    const out = join(home, 'stdout.txt');
    const fd = openSync(out, 'w');
    try {
      const r = spawnSync(process.execPath, ['--require', preload, BIN, ...args], {
        env: irEnv(home, { IR_BUILTINS_FILE: list, ...env }),
        stdio: ['pipe', stdout === 'file' ? fd : 'pipe', 'pipe'],
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(status);
      return { stderr: r.stderr, stdout: stdout === 'file' ? readFileSync(out, 'utf8') : r.stdout, builtins: readFileSync(list, 'utf8').split('\n') };
    } finally {
      closeSync(fd);
    }
  };

  /** The files of this checkout a traced run loaded (its own code, not node_modules), relative to it. */
  const ownFiles = (urls: string[]) =>
    [...new Set(urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u)).filter((p) => p.startsWith(`${ROOT}/`) && !p.includes('/node_modules/')).map((p) => p.slice(ROOT.length + 1)))];

  it('ir --version loads bin/ir.js and dist/bin/main.cjs and no other file of ir: the version is written into the build, main imports nothing statically', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const args of [['--version'], ['-V'], ['--version', '--json']]) {
      expect(ownFiles(loaded(args)).sort(), args.join(' ')).toEqual(['bin/ir.js', 'dist/bin/main.cjs']);
    }
    expect(ir(home, ['--version']).stdout).toBe(`${version}\n`);
    expect(json(ir(home, ['--version', '--json']))).toEqual({ version });
    // The same answer from commander's own flag, which the program (and its build-time version) gives.
    expect(ir(home, ['--no-color', '--version']).stdout).toBe(`${version}\n`);
  });

  it('ir --version writes its line without making the stdout stream (a pipe\'s loads net), to a pipe and to a file alike', () => {
    for (const stdout of ['pipe', 'file'] as const) {
      const run = builtinsOf(home, ['--version'], { stdout });
      expect(run.stdout, stdout).toBe(`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
      expect(run.builtins, stdout).not.toContain('NativeModule net');
    }
    // What would be seen: a command that makes the stdout stream, a pipe's, does load net (--help asks
    // it for the terminal's width).
    expect(builtinsOf(home, ['--help'], { stdout: 'pipe' }).builtins).toContain('NativeModule net');
  });

  it('ir loads with the CommonJS loader alone: bin/ir.js, dist/bin/main.cjs and its pieces; no ES module is run, and nothing is left for the CommonJS export scanner', () => {
    const own = tempHome();
    try {
      loadedModules(own.home, ['declare', '-t', 'commonjs', '-s', 'SEV-4']);
      for (const args of [['--help'], ['note', '--help'], ['note', 'loaded as CommonJS'], ['status'], ['timeline'], ['list', '--json']]) {
        const urls = loadedModules(own.home, args);
        const pieces = ownFiles(urls).filter((p) => p.startsWith('dist/bin/'));
        expect(pieces.filter((p) => !p.endsWith('.cjs')), args.join(' ')).toEqual([]);
        expect(pieces, args.join(' ')).toContain('dist/bin/main.cjs');
        expect(pieces.length, args.join(' ')).toBeGreaterThan(1);
        // Node's own record, from a run without the tracer (its hooks have Node load even a CommonJS
        // entry through the ES module loader): no ES module was linked or run, no file scanned for exports.
        const { builtins } = builtinsOf(own.home, args);
        expect(builtins, args.join(' ')).not.toContain('NativeModule internal/modules/esm/module_job');
        expect(builtins, args.join(' ')).not.toContain('NativeModule internal/deps/cjs-module-lexer/lexer');
      }
      // `ir --version` does not even make the ES module loader.
      expect(builtinsOf(own.home, ['--version']).builtins).not.toContain('NativeModule internal/modules/esm/loader');
      expect(ir(own.home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      own.cleanup();
    }
  });

  it('ir note makes no stream it does not use: with stdout a file, neither the stderr pipe nor the stdin pipe is opened (Node would load net for them)', () => {
    const own = tempHome();
    try {
      expect(ir(own.home, ['declare', '-t', 'streams', '-s', 'SEV-4']).code).toBe(0);
      const run = (args: string[], status = 0) => builtinsOf(own.home, args, { status });
      const note = run(['note', 'to a file']);
      expect(note.stdout).toContain('Note: to a file');
      expect(note.builtins).not.toContain('NativeModule net');
      // What would be seen: a note read from stdin, the pipe, does load net.
      const piped = builtinsOf(own.home, ['note', '-'], { status: 2 });
      expect(piped.stderr).toContain('stdin was empty');
      expect(piped.builtins).toContain('NativeModule net');
      expect(ir(own.home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      own.cleanup();
    }
  });

  it('ir note writes its line, and a failing note its reason, to the descriptors themselves: no stream made, Node\'s stream classes not even loaded, to a file or a pipe', () => {
    const own = tempHome();
    try {
      expect(ir(own.home, ['declare', '-t', 'descriptors', '-s', 'SEV-4']).code).toBe(0);
      const streamModules = (builtins: string[]) => builtins.filter((m) => m === 'NativeModule net' || m === 'NativeModule stream' || m === 'NativeModule tty');
      for (const stdout of ['file', 'pipe'] as const) {
        const note = builtinsOf(own.home, ['note', `to a ${stdout}`], { stdout });
        expect(note.stdout, stdout).toMatch(new RegExp(`^INC-\\S+: Note: to a ${stdout}\n$`));
        expect(streamModules(note.builtins), stdout).toEqual([]);
        const failed = builtinsOf(own.home, ['note', '--incident', 'INC-NONE', 'nowhere'], { stdout, status: 2 });
        expect(failed.stderr, stdout).toBe('ir: no incident INC-NONE; `ir list --all` shows them\n');
        expect(streamModules(failed.builtins), stdout).toEqual([]);
      }
      // What would be seen: a command that must know whether stdout is a terminal (colour is decided
      // by it when NO_COLOR is not set) makes the stream, and a pipe's loads net and the stream classes.
      const status = builtinsOf(own.home, ['status'], { stdout: 'pipe', env: { NO_COLOR: undefined } });
      expect(status.stdout).toContain('descriptors');
      expect(streamModules(status.builtins)).toEqual(['NativeModule stream', 'NativeModule net']);
      expect(ir(own.home, ['timeline']).stdout).toMatch(/to a file[\s\S]*to a pipe/);
    } finally {
      own.cleanup();
    }
  });

  it('a note whose reader has gone before its line is written (`ir note … | true`) is recorded, ends quietly (exit 0, nothing on stderr) and closes its store', async () => {
    const own = tempHome();
    try {
      expect(ir(own.home, ['declare', '-t', 'gone reader', '-s', 'SEV-4']).code).toBe(0);
      for (const args of [['note', 'nobody reads this'], ['note', '--json', 'nor this']]) {
        const child = spawn(process.execPath, [BIN, ...args], { env: irEnv(own.home), stdio: ['ignore', 'pipe', 'pipe'] });
        // The reading end is gone long before ir, starting up, writes.
        child.stdout.destroy();
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
        expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
        // The store was closed as after any command: checkpointed, its -wal and -shm files gone.
        expect(readdirSync(own.home).filter((f) => f.startsWith('ir.db-')), args.join(' ')).toEqual([]);
      }
      const timeline = ir(own.home, ['timeline']);
      expect(timeline.stdout).toContain('nobody reads this');
      expect(timeline.stdout).toContain('nor this');
      expect(ir(own.home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      own.cleanup();
    }
  });

  it('each helper thread is one file of its own, outside the program\'s split: it imports no chunk, and no chunk is cut for it', () => {
    const bin = join(ROOT, 'dist', 'bin');
    for (const thread of ['verify-worker.js', 'render-worker.js', 'timeline-helper.js']) {
      const text = readFileSync(join(bin, thread), 'utf8');
      expect(text.match(/from\s*["']\.\/[^"']+["']|import\(\s*["']\.\/[^"']+["']\s*\)|import\s*["']\.\/[^"']+["']/g), thread).toBeNull();
    }
  });

  it('installed as a package (node_modules/ir beside its dependencies), ir runs the bundled driver code with the installed addon, and the installed driver itself when its version differs', () => {
    const app = tempHome('ir-installed-');
    try {
      // The layout `npm install ir` makes: the package's files under node_modules/ir, its dependencies beside it.
      const modules = join(app.home, 'node_modules');
      const pkg = join(modules, 'ir');
      mkdirSync(pkg, { recursive: true });
      for (const f of ['bin', 'dist', 'runbooks', 'templates', 'package.json']) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
      for (const dep of readdirSync(join(ROOT, 'node_modules'))) if (!dep.startsWith('.') && dep !== 'better-sqlite3') symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
      // better-sqlite3 as its own copy (its addon linked), so its version can be changed below.
      const driver = join(modules, 'better-sqlite3');
      cpSync(join(ROOT, 'node_modules', 'better-sqlite3', 'lib'), join(driver, 'lib'), { recursive: true });
      cpSync(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), join(driver, 'package.json'));
      mkdirSync(join(driver, 'build', 'Release'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), join(driver, 'build', 'Release', 'better_sqlite3.node'));
      const home = join(app.home, 'home');
      const trace = join(app.home, 'trace.txt');
      const run = (args: string[]) => {
        rmSync(trace, { force: true });
        const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test/helpers/trace-imports.mjs'), join(pkg, 'bin', 'ir.js'), ...args], { env: irEnv(home, { IR_TRACE_FILE: trace }), encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return { stdout: r.stdout, urls: readFileSync(trace, 'utf8').split('\n') };
      };
      const installedLib = (urls: string[]) => urls.filter((u) => u.startsWith(pathToFileURL(join(driver, 'lib')).href));
      run(['declare', '-t', 'installed', '-s', 'SEV-4']);
      const same = run(['note', 'from the installed package']);
      expect(same.stdout).toContain('Note: from the installed package');
      expect(installedLib(same.urls)).toEqual([]);
      expect(same.urls.filter((u) => u.includes('/node_modules/bindings/'))).toEqual([]);
      // Another version installed (an upgrade after this build): its own JavaScript drives its addon.
      const meta = JSON.parse(readFileSync(join(driver, 'package.json'), 'utf8')) as { version: string };
      writeFileSync(join(driver, 'package.json'), JSON.stringify({ ...meta, version: `${meta.version}-other` }));
      const other = run(['note', 'after an upgrade of the driver']);
      expect(other.stdout).toContain('Note: after an upgrade of the driver');
      expect(installedLib(other.urls)).toContain(pathToFileURL(join(driver, 'lib', 'database.js')).href);
      expect(run(['timeline', '--verify']).stdout).toMatch(/verified|intact|ok/i);
    } finally {
      app.cleanup();
    }
  });

  it('a command on the team store loads pg (the tracer sees it in its chunk), not better-sqlite3, not fetch', async () => {
    server = await startPostgres();
    psql(server, 'postgres', 'CREATE DATABASE ir_startup;');
    const env = { IR_STORE: `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/ir_startup` };
    loaded(['declare', '-t', 'trace', '-s', 'SEV-4'], env);
    const urls = loaded(['note', 'traced'], env);
    expect(heavyIn(urls)).toContain('pg');
    expect(heavyIn(urls)).not.toContain('better-sqlite3');
    // pg asks whether it runs on Cloudflare by constructing a Response; that must not load undici.
    expect(fetchIn(urls)).toBe(false);
  }, 60_000);
});
