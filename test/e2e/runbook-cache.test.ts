// The parse cache (<home>/cache/parsed) behind `ir runbook show/list/validate` and the severities:
// keyed by content, so an edit is seen at once even with the same size and mtime; a damaged cache
// is a miss, never an error; and a cached verdict is the same problems at the same file:line:col.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, ROOT, tempHome } from '../helpers/cli.js';
import { loadedModules } from '../helpers/trace.js';

describe('ir runbook commands with the parse cache (spawned)', () => {
  let home: string;
  let cleanup: () => void;
  let dir: string;
  const cacheDir = () => join(home, 'cache', 'parsed');
  const file = () => join(dir, 'redis-failure.yaml');

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    dir = join(home, 'team-runbooks');
    mkdirSync(dir);
    for (const f of ['redis-failure.yaml', 'tls-certificate-expiry.yaml', 'severities.yaml']) copyFileSync(join(ROOT, 'runbooks', f), join(dir, f));
  });
  afterAll(() => cleanup());

  const run = (args: string[]) => ir(home, args, { env: { IR_RUNBOOKS: dir } });

  /** Rewrites a file with the same length and the same mtime, as a quick editor save within a second might. */
  function sameSizeSameMtime(path: string, from: string, to: string): void {
    expect(to.length).toBe(from.length);
    // A whole second, which every file system keeps exactly.
    const second = 1_790_000_000;
    utimesSync(path, second, second);
    const before = statSync(path);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(from);
    writeFileSync(path, text.replace(from, to));
    utimesSync(path, second, second);
    expect(statSync(path).size).toBe(before.size);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
  }

  it('is used: the second `runbook show` answers from it without loading the YAML parser', () => {
    const first = run(['runbook', 'show', 'redis-failure', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(cacheDir()).length).toBeGreaterThan(0);
    const urls = loadedModules(home, ['runbook', 'show', 'redis-failure'], { IR_RUNBOOKS: dir });
    expect(urls.some((u) => u.includes('/node_modules/yaml/'))).toBe(false);
    expect(run(['runbook', 'show', 'redis-failure', '--json']).stdout).toBe(first.stdout);
  });

  it('sees an edit at once, also one that keeps the size and the mtime', () => {
    expect(JSON.parse(run(['runbook', 'show', 'redis-failure', '--json']).stdout).title).toBe('Cache / Redis failure');
    sameSizeSameMtime(file(), 'title: Cache / Redis failure', 'title: Cache / Redis FAILURE');
    expect(JSON.parse(run(['runbook', 'show', 'redis-failure', '--json']).stdout).title).toBe('Cache / Redis FAILURE');
    // A mistake brought in the same way is reported, where it is, by show, list and validate.
    sameSizeSameMtime(file(), 'on_failure: restart-redis', 'on_failure: restart-xxxxx');
    const show = run(['runbook', 'show', 'redis-failure']);
    expect(show.code).toBe(2);
    expect(show.stderr).toMatch(/redis-failure\.yaml:\d+:\d+: step "ping": on_failure names "restart-xxxxx", which is not a later step/);
    const list = run(['runbook', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { runbooks: Array<{ id: string }> }).runbooks.map((r) => r.id)).toEqual(['tls-certificate-expiry']);
    expect(run(['runbook', 'validate', dir]).code).toBe(2);
    sameSizeSameMtime(file(), 'on_failure: restart-xxxxx', 'on_failure: restart-redis');
    expect(run(['runbook', 'validate', dir]).code).toBe(0);
  });

  it('sees an edit of severities.yaml with the same size and mtime (the runbooks are checked against it)', () => {
    const severities = join(dir, 'severities.yaml');
    expect(run(['runbook', 'validate', dir]).code).toBe(0);
    sameSizeSameMtime(severities, '  - id: SEV-1\n', '  - id: SEV-9\n');
    const r = run(['runbook', 'validate', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/redis-failure\.yaml:\d+:\d+: severity "SEV-1" is not defined in /);
    sameSizeSameMtime(severities, '  - id: SEV-9\n', '  - id: SEV-1\n');
    expect(run(['runbook', 'validate', dir]).code).toBe(0);
  });

  it('reports the same problems at the same file:line:col from the cache as without it', () => {
    const bad = join(home, 'bad');
    mkdirSync(bad);
    copyFileSync(join(dir, 'severities.yaml'), join(bad, 'severities.yaml'));
    const text = readFileSync(file(), 'utf8')
      .replace('on_failure: restart-redis', 'on_failure: nowhere')
      .replace('title: Check that Redis answers', 'title: 42\n        colour: red')
      .replace(/^severity: .*$/m, 'severity: SEV-7');
    writeFileSync(join(bad, 'broken.yaml'), text);
    writeFileSync(join(bad, 'dup.yaml'), readFileSync(file(), 'utf8'));
    writeFileSync(join(bad, 'syntax.yaml'), 'title: [unclosed\nphases: {}\n');
    const cold = run(['runbook', 'validate', bad, '--json']);
    expect(cold.code).toBe(2);
    expect((JSON.parse(cold.stdout) as { problems: unknown[] }).problems.length).toBeGreaterThan(3);
    const warm = run(['runbook', 'validate', bad, '--json']);
    expect(warm).toEqual(cold);
    // And the same as an ir with no cache at all (a fresh home) prints.
    const fresh = tempHome();
    try {
      expect(run(['runbook', 'validate', bad]).stdout).toBe(ir(fresh.home, ['runbook', 'validate', bad]).stdout);
    } finally {
      fresh.cleanup();
    }
  });

  it('ignores a damaged cache: unreadable JSON, another entry under the name, an empty file', () => {
    const want = run(['runbook', 'list', '--json']);
    expect(want.code).toBe(0);
    const entries = readdirSync(cacheDir());
    expect(entries.length).toBeGreaterThan(2);
    const damage = ['{"key": "0', JSON.stringify({ key: 'not-this-one', value: { problems: [] } }), ''];
    entries.forEach((e, i) => writeFileSync(join(cacheDir(), e), damage[i % damage.length]));
    for (const args of [['runbook', 'list', '--json'], ['runbook', 'show', 'redis-failure', '--json'], ['runbook', 'validate', dir, '--json'], ['runbook', 'redis-failure', '--dry-run', '--json']]) {
      const r = run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(run(['runbook', 'list', '--json'])).toEqual(want);
  });
});
