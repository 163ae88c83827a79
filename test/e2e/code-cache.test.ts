// V8's code caches for the program's pieces (dist/bin/<piece>.cache, written by `npm run build`,
// read by the loader in dist/bin/main.cjs: scripts/piece-loader.mjs): used when they fit, and a cache
// that is missing, damaged, stale or made under other V8 flags changes nothing but speed.
// IR_DEBUG=code-cache makes ir say on stderr what became of each piece's cache.

import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, irEnv, tempHome } from '../helpers/cli.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the loader said of each piece's cache: piece → status. */
  caches: Map<string, string>;
}

function run(bin: string, home: string, args: string[], { env = {}, node = [] }: { env?: Record<string, string>; node?: string[] } = {}): Run {
  const r = spawnSync(process.execPath, [...node, bin, ...args], { env: irEnv(home, { IR_DEBUG: 'code-cache', ...env }), cwd: home, encoding: 'utf8' });
  const caches = new Map<string, string>();
  const rest: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = /^ir: code cache: (\S+): (.*)$/.exec(line);
    if (m) caches.set(m[1], m[2]);
    else rest.push(line);
  }
  return { code: r.status, stdout: r.stdout, stderr: rest.join('\n'), caches };
}

describe('V8 code caches of the pieces', () => {
  let home: string;
  let cleanup: () => void;
  // A copy of the built ir beside this checkout (so its packages resolve), for the caches and pieces the tests spoil.
  const copy = join(ROOT, `.ir-test-code-cache-${process.pid}`);
  const copyBin = join(copy, 'bin', 'ir.js');
  const pieces = join(copy, 'dist', 'bin');
  /** The piece named prefix-HASH.cjs, of those `among` (a run's caches) when several have the prefix. */
  const piece = (prefix: string, among?: Run) => {
    const name = readdirSync(pieces).find((n) => n.startsWith(`${prefix}-`) && n.endsWith('.cjs') && (!among || among.caches.has(n)));
    if (!name) throw new Error(`no ${prefix} piece in dist/bin`);
    return { name, file: join(pieces, name), cache: join(pieces, name.replace(/\.cjs$/, '.cache')) };
  };
  /** Where V8's data lies in a cache file (see scripts/piece-loader.mjs): after the format line, two sizes and the piece's copy; then its second copy. */
  const layout = (bytes: Buffer) => {
    const start = bytes.indexOf(0x0a) + 1 + 8;
    const size = bytes.readUInt32LE(start - 8);
    const data = bytes.readUInt32LE(start - 4);
    return { piece: start, data: start + size, copy: start + size + data, dataSize: data };
  };
  const flip = (file: string, at: (l: ReturnType<typeof layout>) => number) => {
    const bytes = readFileSync(file);
    bytes[at(layout(bytes))] ^= 0xff;
    writeFileSync(file, bytes);
  };
  const restore = () => {
    rmSync(copy, { recursive: true, force: true });
    for (const d of ['bin', 'dist', 'runbooks', 'templates']) cpSync(join(ROOT, d), join(copy, d), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  };

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    restore();
    expect(run(BIN, home, ['declare', '-t', 'code cache', '-s', 'SEV-4']).code).toBe(0);
  });
  afterAll(() => {
    cleanup();
    rmSync(copy, { recursive: true, force: true });
  });

  it('the build leaves a cache for every piece `ir note` loads, and ir uses each of them', () => {
    const r = run(BIN, home, ['note', 'from cached code']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Note: from cached code');
    const names = [...r.caches.keys()];
    for (const prefix of ['context', 'program', 'note', 'store', 'open']) expect(names.some((n) => n.startsWith(`${prefix}-`)), prefix).toBe(true);
    expect([...new Set(r.caches.values())]).toEqual(['used']);
    // Every piece the process loaded was compiled by the loader (the require cache holds no other).
    const help = run(BIN, home, ['--help']);
    expect([...new Set(help.caches.values())]).toEqual(['used']);
    expect(help.stdout).toContain('Usage: ir');
  });

  it('IR_CODE_CACHE=0 compiles from source: the same output', () => {
    const cached = run(BIN, home, ['--help']);
    const off = run(BIN, home, ['--help'], { env: { IR_CODE_CACHE: '0' } });
    expect(off.code).toBe(0);
    expect([...new Set(off.caches.values())]).toEqual(['off (IR_CODE_CACHE=0)']);
    expect(off.stdout).toBe(cached.stdout);
  });

  it('a missing, damaged or truncated cache file, or one that is not a cache at all, is compiled around: same output, the command works', () => {
    const expected = run(BIN, home, ['--help']).stdout;
    const program = piece('program');
    const spoil: Array<[string, () => void, string]> = [
      ['missing', () => rmSync(program.cache), 'none'],
      ['a byte of V8 data flipped', () => flip(program.cache, (l) => l.data + Math.floor(l.dataSize / 2)), 'damaged'],
      ['a byte of the copy of V8 data flipped', () => flip(program.cache, (l) => l.copy + 100), 'damaged'],
      ['a byte of the copy of the piece flipped', () => flip(program.cache, (l) => l.piece + 1000), 'stale (the piece changed since the cache was made)'],
      ['cut short in its data', () => truncateSync(program.cache, readFileSync(program.cache).length - 100), 'damaged'],
      ['cut short in its header', () => truncateSync(program.cache, 10), 'not a cache file of this format'],
      ['another file', () => writeFileSync(program.cache, 'hello'), 'not a cache file of this format'],
      ['empty', () => writeFileSync(program.cache, ''), 'not a cache file of this format'],
    ];
    for (const [what, damage, status] of spoil) {
      restore();
      damage();
      const r = run(copyBin, home, ['--help']);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
      expect(r.caches.get(program.name), what).toBe(status);
      expect(r.stdout, what).toBe(expected);
      // The other pieces' caches still serve.
      expect([...r.caches].filter(([name]) => name !== program.name).every(([, s]) => s === 'used'), what).toBe(true);
    }
    // A note is recorded through a damaged store piece's cache as through a sound one.
    restore();
    const store = piece('store', run(copyBin, home, ['note', 'through sound caches']));
    const bytes = readFileSync(store.cache);
    const { data, dataSize } = layout(bytes);
    writeFileSync(store.cache, bytes.map((b, i) => (i >= data && i < data + dataSize && i % 97 === 0 ? b ^ 0x5a : b)));
    const note = run(copyBin, home, ['note', 'through a damaged cache']);
    expect(note.code, note.stderr).toBe(0);
    expect(note.caches.get(store.name)).toBe('damaged');
    expect(run(copyBin, home, ['timeline', '--verify']).code).toBe(0);
    expect(run(copyBin, home, ['timeline']).stdout).toContain('through a damaged cache');
  });

  it('a piece edited since the build runs as edited: its cache (same length, which is all V8 checks) is stale and not used', () => {
    restore();
    const program = piece('program');
    const text = readFileSync(program.file, 'utf8');
    const from = 'Incident response from the terminal';
    const to = 'Incident RESPONSE from the terminal';
    expect(text).toContain(from);
    writeFileSync(program.file, text.replace(from, to));
    const r = run(copyBin, home, ['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.caches.get(program.name)).toBe('stale (the piece changed since the cache was made)');
    expect(r.stdout).toContain(to);
    expect(r.stdout).not.toContain(from);
  });

  it('a cache made under other V8 flags is rejected by V8 and the piece compiled from source', () => {
    const expected = run(BIN, home, ['--help']).stdout;
    const r = run(BIN, home, ['--help'], { node: ['--no-opt'] });
    expect(r.code, r.stderr).toBe(0);
    expect([...new Set(r.caches.values())]).toEqual(['rejected by V8 (another Node or other V8 flags)']);
    expect(r.stdout).toBe(expected);
  });

  it('an error thrown in a piece names the piece\'s file and line in its stack, as Node\'s own loader does', () => {
    restore();
    const note = piece('note');
    const text = readFileSync(note.file, 'utf8');
    const lines = text.split('\n');
    // After the header comments, so the line number is the file's own.
    const at = lines.findIndex((l) => !l.startsWith('//'));
    lines.splice(at, 0, 'throw new Error("a piece that fails as it loads");');
    writeFileSync(note.file, lines.join('\n'));
    const r = run(copyBin, home, ['note', '--verbose', 'never recorded']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ir: internal error: a piece that fails as it loads');
    expect(r.stderr).toContain(`${note.file}:${at + 1}:`);
    expect(r.caches.get(note.name)).toBe('stale (the piece changed since the cache was made)');
    expect(run(copyBin, home, ['timeline']).stdout).not.toContain('never recorded');
  });
});
