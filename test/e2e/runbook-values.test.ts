// Values can never become options: the real binary refuses a value that begins with "-" (unless its
// variable allows it), a value of the wrong type or pattern, and a line break, from every source —
// --var, env:, a value saved for --resume, a prompt answer, an ask step — before anything runs or
// is recorded. At a terminal, a refused answer is asked again with the reason.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, irAsync as ir, json, tempHome } from '../helpers/cli.js';
import { terminalSuite, type TmuxSession } from '../helpers/tty.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');
const rb = ['--runbooks', FIXTURES];

interface Event {
  type: string;
  data: Record<string, unknown>;
}
// Spawned asynchronously: a long run of spawnSync calls would starve the test worker's own messages.
const events = async (home: string, id: string) => json<{ events: Event[] }>(await ir(home, ['timeline', id, '--json'])).events;
const steps = async (home: string, id: string) => (await events(home, id)).filter((e) => e.type === 'runbook.step').map((e) => e.data);

async function declare(home: string, title: string): Promise<string> {
  const r = await ir(home, ['declare', '--json', '-t', title, '-s', 'SEV-1']);
  expect(r.code, r.stderr).toBe(0);
  return json<{ id: string }>(r).id;
}

/** Every file under dir, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('a value that begins with "-" is refused before anything runs', () => {
  let home: string;
  let cleanup: () => void;
  let work: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    work = mkdtempSync(join(tmpdir(), 'ir-values-cwd-'));
  });
  afterAll(() => {
    cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('backup-failure --yes --var backup_dir=-delete: exit 2 naming backup_dir and the step; no file deleted, nothing recorded', async () => {
    // `find -delete -maxdepth 2 …` deletes everything under its working directory: give it one full of files.
    for (const f of ['a.dump', 'b.dump', 'notes.txt']) writeFileSync(join(work, f), 'keep me');
    mkdirSync(join(work, 'sub'));
    writeFileSync(join(work, 'sub', 'c.dump'), 'keep me');
    const before = tree(work);
    const id = await declare(home, 'backups');
    const eventsBefore = (await events(home, id)).length;
    const r = await ir(home, ['runbook', 'backup-failure', '--yes', '--var', 'backup_dir=-delete', '--incident', id], { cwd: work });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--var backup_dir: "-delete" begins with "-"/);
    expect(r.stderr).toMatch(/step[s]? "fresh-backup" \(\S*backup-failure\.yaml:\d+\)/);
    expect(r.stderr).toMatch(/allow_dash: true/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(tree(work)).toEqual(before);
    expect(await events(home, id)).toHaveLength(eventsBefore);
    expect((await ir(home, ['runbook', 'backup-failure', '--resume', '--yes', '--incident', id])).stderr).toMatch(/no unfinished run/);
  });

  it('--var pod=--all-namespaces is refused (ask variable), also with --dry-run', async () => {
    const id = await declare(home, 'hot pod');
    for (const extra of [['--yes', '--incident', id], ['--dry-run']]) {
      const r = await ir(home, ['runbook', 'high-resource-usage', '--var', 'pod=--all-namespaces', ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--var pod: "--all-namespaces" begins with "-"/);
      expect(r.stderr).toMatch(/"pod-processes" \(runbooks\/high-resource-usage\.yaml:\d+\)/);
    }
    expect(await steps(home, id)).toEqual([]);
  });

  it('a dash value from the variable\'s env: is refused, naming the environment variable', async () => {
    const id = await declare(home, 'env dash');
    const r = await ir(home, ['runbook', 'values', '--yes', '--incident', id, ...rb], { cwd: work, env: { IR_TEST_VALUES_DIR: '-delete' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/dir \(from \$IR_TEST_VALUES_DIR\): "-delete" begins with "-".*step "list" \(\S*values\.yaml:\d+\)/);
    expect(tree(work).length).toBeGreaterThan(0);
    expect(await steps(home, id)).toEqual([]);
  });

  it('a secret value is refused without being shown', async () => {
    const secret = '-SeCrEt-42';
    const r = await ir(home, ['runbook', 'values', '--dry-run', ...rb], { env: { IR_TEST_VALUES_TOKEN: secret } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/token \(from \$IR_TEST_VALUES_TOKEN\): the value begins with "-"/);
    expect(r.stdout + r.stderr).not.toContain('SeCrEt');
  });

  it('allow_dash: true accepts a leading dash, and the value still arrives as one argument', async () => {
    const id = await declare(home, 'allow dash');
    const r = await ir(home, ['runbook', 'values', '--yes', '--var', 'offset=-5', '--incident', id, ...rb]);
    expect(r.code, r.stderr).toBe(0);
    const out = readFileSync(String((await steps(home, id)).find((s) => s.step === 'echo-all')!.output_file), 'utf8');
    expect(out).toBe('[default]\n[127.0.0.1]\n[80]\n[1]\n[http://127.0.0.1/]\n[n]\n[v1.0]\n[-5]\n');
  });

  it('a value saved for --resume is checked again (a dash, a NUL)', async () => {
    const id = await declare(home, 'resume');
    const run = await ir(home, ['runbook', 'values', '--yes', '--var', 'ns=web', '--incident', id, ...rb]);
    expect(run.code, run.stderr).toBe(0);
    // An unfinished run whose saved value was changed behind ir's back (or by an older ir).
    const db = join(home, 'ir.db');
    execFileSync('sqlite3', [db, `UPDATE runbook_runs SET status='interrupted', next_index=1, vars=json_set(vars, '$.ns', '-oops') WHERE incident_id='${id}'`]);
    const r = await ir(home, ['runbook', 'values', '--resume', '--yes', '--incident', id, ...rb]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/ns \(saved for --resume\): "-oops" begins with "-"/);
    // A NUL cannot come from a flag or the environment, but a stored value can hold one.
    execFileSync('sqlite3', [db, `UPDATE runbook_runs SET vars=json_set(vars, '$.ns', 'a' || char(0) || 'b') WHERE incident_id='${id}'`]);
    const nul = await ir(home, ['runbook', 'values', '--resume', '--yes', '--incident', id, ...rb]);
    expect(nul.code, nul.stderr).toBe(2);
    expect(nul.stderr).toMatch(/ns \(saved for --resume\): "a\\u0000b" contains a NUL character/);
    expect((await events(home, id)).filter((e) => e.type === 'runbook.resumed')).toEqual([]);
  });
});

describe('types, patterns and line breaks', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  const dry = (...vars: string[]) => ir(home, ['runbook', 'values', '--dry-run', ...vars.flatMap((v) => ['--var', v]), ...rb]);

  it('each type accepts a good value and refuses a bad one, naming the variable (the full lists are in test/runbooks/values.test.ts)', async () => {
    const good = ['ns=web-1', 'host=fe80::1', 'port=65535', 'count=42', 'url=mongodb://u:p@a:1,b:2/?replicaSet=rs0', 'note=$(id); x', 'tag=v1.2', 'dir=./-delete'];
    const ok = await dry(...good);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("printf '[%s]\\n' web-1 fe80::1 65535 42 'mongodb://u:p@a:1,b:2/?replicaSet=rs0' '$(id); x' v1.2 0");
    const refused: Array<[string, RegExp]> = [
      ['ns=Web_1', /--var ns: "Web_1" is not a name/],
      ['host=db..example.com', /--var host: "db\.\.example\.com" is not a host/],
      ['port=65536', /--var port: "65536" is not a port/],
      ['count=1.5', /--var count: "1\.5" is not a whole number/],
      ['url=api.example.com', /--var url: "api\.example\.com" is not a URL/],
      ['tag=v1.2.3', /--var tag: "v1\.2\.3" does not match the pattern/],
      ['note=-n', /--var note: "-n" begins with "-"/],
      ['count=-3', /--var count: "-3" begins with "-"/],
    ];
    for (const [v, message] of refused) {
      const r = await dry(v);
      expect(r.code, `${v} was accepted`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('a line break is refused unless the type is text', async () => {
    const r = await dry('ns=web\nkube-system');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--var ns: "web\\nkube-system" contains a line break, which only a variable of type text may hold/);
    expect((await dry('dir=/tmp\n/etc')).stderr).toMatch(/contains a line break/);
    expect((await dry('note=a\nb')).code).toBe(0);
  });

  it('a runbook whose default fails its own type, or whose type or pattern is unknown, does not load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ir-values-rb-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), [
        'title: Bad values', // 1
        'variables:', // 2
        '  port:', // 3
        '    type: port', // 4
        '    default: "99999"', // 5
        '  kind:', // 6
        '    type: string', // 7
        '  tag:', // 8
        "    pattern: 'v[0-9'", // 9
        'phases:', // 10
        '  - id: p', // 11
        '    steps:', // 12
        '      - id: s', // 13
        '        title: S', // 14
        '        run: echo {{port}} {{kind}} {{tag}}', // 15
      ].join('\n'));
      const r = await ir(home, ['runbook', 'validate', dir]);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/bad\.yaml:5:14: variable "port": the default "99999" is not a port/);
      expect(r.stdout).toMatch(/bad\.yaml:7:11: variable "kind": "type" must be one of name, host, port, int, path, url, text, not "string"/);
      expect(r.stdout).toMatch(/bad\.yaml:9:14: variable "tag": "pattern" is not a valid regular expression/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('answers at a terminal are checked and asked again', () => {
  const term = terminalSuite();
  let session: TmuxSession;

  it('a prompt answer "-x" and an ask answer "-x" are refused with the reason, then a good answer runs', async () => {
    const id = json<{ id: string }>(await ir(term.home, ['declare', '--json', '-t', 'answers', '-s', 'SEV-2'])).id;
    session = term.open(['runbook', 'ask-values', '--incident', id, ...rb]);
    await session.waitFor(/port — port to print/);
    session.type('-x');
    session.keys('Enter');
    await session.waitFor(/port to print -x\s*\n>? *"-x" begins with "-", so the program would read it as an option/);
    session.keys('BSpace', 'BSpace');
    session.type('8080');
    session.keys('Enter');
    await session.waitFor(/Which pod\?/);
    session.type('-x');
    session.keys('Enter');
    await session.waitFor(/Which pod\? -x\s*\n>? *"-x" begins with "-"/);
    session.keys('BSpace', 'BSpace');
    session.type('Web_1');
    session.keys('Enter');
    await session.waitFor(/"Web_1" is not a name/);
    for (let i = 0; i < 5; i++) session.keys('BSpace');
    session.type('web-1');
    session.keys('Enter');
    await session.waitFor(/show:/);
    session.keys('Enter'); // Run
    expect(await session.exitCode()).toBe(0);
    const s = await steps(term.home, id);
    expect(s.map((d) => [d.step, d.outcome])).toEqual([
      ['which-pod', 'answered'],
      ['show', 'ok'],
    ]);
    expect(readFileSync(String(s[1].output_file), 'utf8')).toBe('[web-1]\n[8080]\n');
  });
});
