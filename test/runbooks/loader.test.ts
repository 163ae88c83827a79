// Loading runbooks: one malformed example per rule, each reported at its exact file:line:col in
// words a runbook author understands, every problem of every file collected.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/yaml.js';
import { loadSeverities } from '../../src/config/severities.js';
import { allSteps, secretNames, type RunStep } from '../../src/runbooks/format.js';
import { findRunbook, loadRunbookDir, loadRunbookFile, loadRunbookText, type FileResult } from '../../src/runbooks/loader.js';
import { displayCommand } from '../../src/runbooks/words.js';
import { ROOT } from '../helpers/cli.js';

const SEVERITIES = ['SEV-0', 'SEV-1', 'SEV-2'];

function load(text: string, name = 'rb.yaml'): FileResult {
  return loadRunbookText(text, name, join('/runbooks', name), { severityIds: SEVERITIES, severityFile: 'severities.yaml' });
}

/**
 * A small valid runbook; `steps` is appended after step "a" and starts on line 16 with a 6-space
 * indent (step fields at column 9).
 */
function rb(steps = '', head: { severity?: string; within?: string; id?: string } = {}): string {
  return [
    `id: ${head.id ?? 't'}`, // 1
    'title: T', // 2
    `severity: ${head.severity ?? 'SEV-1'}`, // 3
    'variables:', // 4
    '  host:', // 5
    '    default: h', // 6
    '  pw:', // 7
    '    secret: true', // 8
    'phases:', // 9
    '  - id: p1', // 10
    `    within: ${head.within ?? '5m'}`, // 11
    '    steps:', // 12
    '      - id: a', // 13
    '        title: A', // 14
    '        run: echo {{host}}', // 15
  ].join('\n') + '\n' + steps;
}

function step(id: string, ...fields: string[]): string {
  return [`      - id: ${id}`, `        title: ${id.toUpperCase()}`, ...fields.map((f) => `        ${f}`)].join('\n') + '\n';
}

function problemsAt(result: FileResult): string[] {
  return result.problems.map(formatProblem);
}

/** The file has a problem at line:col whose message contains `message`. */
function expectProblem(result: FileResult, line: number, col: number, message: string): void {
  const lines = problemsAt(result);
  const at = `${result.file}:${line}:${col}: `;
  const hit = lines.find((l) => l.startsWith(at) && l.includes(message));
  expect(hit, `expected ${at}…${message}…, got:\n${lines.join('\n')}`).toBeDefined();
  expect(result.runbook).toBeUndefined();
}

describe('a valid runbook', () => {
  it('loads with positions, templates, defaults and secrets', () => {
    const text = rb(
      step('b', 'run: kubectl logs {{pod}} -n prod --since=1h | grep -i err', 'shell: true', 'timeout: 90s', 'on_failure: d', 'destructive: true') +
        step('c', 'print: ssh {{host}}') +
        '      - id: pick\n        title: Pick\n        when: optional\n        ask:\n          variable: pod\n          message: Which pod?\n' +
        step('d', 'run: psql -c "SELECT count(*) FROM t" -h {{host}} -W {{pod}}', 'env:', '  PGPASSWORD: "{{pw}}"', 'expect:', '  exit: 1', '  stdout: ^\\d+$'),
    );
    // {{pod}} in step b is asked only later: fix the order by moving b after pick.
    expect(problemsAt(load(text)).join('\n')).toContain('step "b": {{pod}} is asked for only later, by step "pick"');

    const fixed = rb(
      '      - id: pick\n        title: Pick\n        when: optional\n        ask:\n          variable: pod\n          message: Which pod?\n' +
        step('b', 'run: kubectl logs {{pod}} -n prod --since=1h | grep -i err', 'shell: true', 'timeout: 90s', 'on_failure: d', 'destructive: true') +
        step('c', 'print: ssh {{host}}') +
        step('d', 'run: psql -c "SELECT count(*) FROM t" -h {{host}} -W {{pod}}', 'env:', '  PGPASSWORD: "{{pw}}"', 'expect:', '  exit: 1', '  stdout: ^\\d+$'),
    );
    const result = load(fixed);
    expect(problemsAt(result)).toEqual([]);
    const runbook = result.runbook!;
    expect(runbook).toMatchObject({ id: 't', title: 'T', severity: 'SEV-1', file: 'rb.yaml', path: '/runbooks/rb.yaml' });
    expect(runbook.variables).toEqual([
      { name: 'host', default: 'h', secret: false, allowDash: false },
      { name: 'pw', secret: true, allowDash: false },
    ]);
    expect(runbook.phases[0]).toMatchObject({ id: 'p1', title: 'p1', withinMs: 5 * 60_000, location: { file: 'rb.yaml', line: 10, col: 5 } });
    const steps = allSteps(runbook);
    expect(steps.map((s) => [s.id, s.kind, s.index, s.location.line, s.location.col])).toEqual([
      ['a', 'run', 0, 13, 9],
      ['pick', 'ask', 1, 16, 9],
      ['b', 'run', 2, 22, 9],
      ['c', 'print', 3, 29, 9],
      ['d', 'run', 4, 32, 9],
    ]);
    const b = steps[2] as RunStep;
    expect(b).toMatchObject({ destructive: true, timeoutMs: 90_000, onFailure: { action: 'goto', step: 'd' }, command: { shell: true } });
    const d = steps[4] as RunStep;
    expect(d).toMatchObject({ timeoutMs: 60_000, onFailure: { action: 'continue' }, expect: { exit: 1, stdout: '^\\d+$' }, destructive: false });
    expect(d.env.PGPASSWORD.parts).toEqual([{ kind: 'var', name: 'pw' }]);
    expect(steps[1]).toMatchObject({ optional: true, variable: 'pod', message: 'Which pod?' });
    expect(secretNames(runbook)).toEqual(new Set(['pw']));
    expect(displayCommand(d.command, { host: 'db', pod: 'x' }, { secrets: secretNames(runbook) })).toBe(`psql -c 'SELECT count(*) FROM t' -h db -W x`);
  });

  it('takes its id from the file name when it has none', () => {
    const result = load(rb().replace('id: t\n', ''), 'cache-down.yaml');
    expect(problemsAt(result)).toEqual([]);
    expect(result.runbook!.id).toBe('cache-down');
  });

  it('every shipped runbook loads against the shipped severities', () => {
    const severities = loadSeverities(join(ROOT, 'runbooks', 'severities.yaml'));
    const dir = loadRunbookDir(join(ROOT, 'runbooks'), { severityIds: severities.levels.map((l) => l.id), display: (p) => p.slice(ROOT.length + 1) });
    expect(dir.problems.map(formatProblem)).toEqual([]);
    expect(dir.runbooks.length).toBe(dir.files.length);
    expect(dir.files.map((f) => f.file)).not.toContain('runbooks/severities.yaml');
  });
});

describe('each rule, at its line and column', () => {
  it('duplicate step ids', () => {
    expectProblem(load(rb(step('a', 'note: again'))), 16, 13, 'step "a": the id "a" is already used by an earlier step (line 13)');
  });

  it('duplicate phase ids', () => {
    const text = rb() + '  - id: p1\n    steps:\n' + step('z', 'note: n');
    expectProblem(load(text), 16, 9, 'phase "p1": the id "p1" is already used by an earlier phase (line 10)');
  });

  it('on_failure naming no later step: a typo, an earlier step, the step itself', () => {
    const typo = rb(step('ping', 'run: echo ping', 'on_failure: retsart') + step('restart', 'run: echo r'));
    expectProblem(load(typo), 19, 21, 'step "ping": on_failure names "retsart", which is not a later step of this runbook');
    expect(problemsAt(load(typo))[0]).toContain('did you mean "restart"?');
    expectProblem(load(rb(step('b', 'run: echo b', 'on_failure: a'))), 19, 21, 'on_failure names "a", which is not a later step of this runbook (it comes before this step');
    expectProblem(load(rb(step('b', 'run: echo b', 'on_failure: b'))), 19, 21, 'on_failure names "b", which is not a later step');
    expect(problemsAt(load(rb(step('b', 'run: echo b', 'on_failure: abort'))))).toEqual([]);
  });

  it('{{name}} not declared, in run, print, env values and cwd', () => {
    expectProblem(load(rb(step('b', 'run: echo {{hots}}'))), 18, 19, 'step "b": {{hots}} is not a declared variable: declare it under "variables" or ask for it in an earlier step (did you mean "host"?)');
    expectProblem(load(rb(step('b', 'print: ssh {{user}}@{{host}}'))), 18, 20, 'step "b": {{user}} is not a declared variable');
    expectProblem(load(rb(step('b', 'run: curl localhost', 'env:', '  TOKEN: "Bearer {{token}}"'))), 20, 26, 'step "b": {{token}} is not a declared variable');
    expectProblem(load(rb(step('b', 'run: make', 'cwd: /srv/{{app}}'))), 19, 19, 'step "b": {{app}} is not a declared variable');
    // In a folded block scalar, the column is still the reference's own.
    expectProblem(load(rb(step('b', 'run: >-', '  kubectl get pods', '  -n {{namespace}}'))), 20, 14, 'step "b": {{namespace}} is not a declared variable');
  });

  it('{{name}} asked for only by a later (or the same) ask step', () => {
    const later = rb(step('b', 'print: restore {{snapshot}}') + '      - id: pick\n        title: Pick\n        ask:\n          variable: snapshot\n          message: Which?\n');
    expectProblem(load(later), 18, 24, 'step "b": {{snapshot}} is asked for only later, by step "pick"');
    const earlier = rb('      - id: pick\n        title: Pick\n        ask:\n          variable: snapshot\n          message: Which?\n' + step('b', 'run: restore {{snapshot}}'));
    expect(problemsAt(load(earlier))).toEqual([]);
  });

  it.each([
    ['kubectl logs api | grep err', 18, '"|" (a pipe) needs a shell: add shell: true'],
    ['pg_dump db > /tmp/db.sql', 12, '">" (a redirect) needs a shell'],
    ['psql db < dump.sql', 9, '"<" (a redirect) needs a shell'],
    ['echo a; rm -rf /', 7, '";" (a command separator) needs a shell'],
    ['make && make install', 6, '"&&" needs a shell'],
    ['make || true', 6, '"||" needs a shell'],
    ['echo $(id)', 6, '"$(...)" (command substitution) needs a shell'],
    ['echo `id`', 6, 'backticks (command substitution) need a shell'],
    ['rm /var/log/*.gz', 13, 'unquoted "*" is a wildcard'],
    ['ls file?.txt', 8, 'unquoted "?" is a wildcard'],
    ['ls [ab].txt', 4, 'unquoted "[" is a wildcard'],
    [`echo 'never closed`, 6, "unbalanced quotes: the ' here is never closed"],
  ])('run without shell: true: %j', (command, offset, message) => {
    expectProblem(load(rb(step('b', `run: ${command}`))), 18, 13 + offset, `step "b": ${message}`);
  });

  it('quoted shell characters are fine without shell: true', () => {
    expect(problemsAt(load(rb(step('b', `run: psql -c "SELECT count(*) FROM t WHERE a = 'x|y'" {{host}}`))))).toEqual([]);
    expect(problemsAt(load(rb(step('b', `run: rm '/var/log/*.gz' "a?" "[x]" \\*`))))).toEqual([]);
  });

  it('shell: true: quotes around {{name}} and unbalanced quotes', () => {
    expectProblem(load(rb(step('b', `run: echo '{{host}}' | cat`, 'shell: true'))), 18, 20, 'step "b": {{host}} is inside quotes: with shell: true ir inserts every value single-quoted');
    expectProblem(load(rb(step('b', `run: echo "x-{{host}}" | cat`, 'shell: true'))), 18, 22, '{{host}} is inside quotes');
    expectProblem(load(rb(step('b', `run: echo "abc | cat`, 'shell: true'))), 18, 19, 'unbalanced quotes: the " here is never closed');
    expect(problemsAt(load(rb(step('b', 'run: echo {{host}} | grep -c "h" > /dev/null', 'shell: true'))))).toEqual([]);
  });

  it('invalid expect.stdout regular expression', () => {
    expectProblem(load(rb(step('b', 'run: redis-cli PING', 'expect:', '  stdout: "(PONG"'))), 20, 19, 'step "b": "expect.stdout" is not a valid regular expression: Unterminated group');
  });

  it('bad durations: within and timeout', () => {
    expectProblem(load(rb('', { within: '5 minutes' })), 11, 13, 'phase "p1": "within" must be a duration such as 90s, 5m, 1h or 1h30m');
    expectProblem(load(rb(step('b', 'run: sleep 1', 'timeout: 10 s'))), 19, 18, 'step "b": "timeout" must be a duration such as 90s, 5m, 1h or 1h30m, not "10 s"');
    expectProblem(load(rb(step('b', 'run: sleep 1', 'timeout: 0s'))), 19, 18, 'step "b": "timeout" must be longer than 0s');
    expectProblem(load(rb(step('b', 'run: sleep 1', 'timeout: 10'))), 19, 18, 'step "b": "timeout" must be a duration such as 90s, 5m, 1h or 1h30m, not 10');
  });

  it('severity missing from the severity definitions', () => {
    expectProblem(load(rb('', { severity: 'SEV1' })), 3, 11, 'severity "SEV1" is not defined in severities.yaml (did you mean "SEV-1"?); defined: SEV-0, SEV-1, SEV-2');
    expectProblem(load(rb('', { severity: 'P9' })), 3, 11, 'severity "P9" is not defined');
  });

  it('ids that are not lowercase letters, digits and dashes', () => {
    expectProblem(load(rb('', { id: 'Redis_Failure' })), 1, 5, '"id" must be lowercase letters, digits and dashes, starting with a letter or digit (like restart-redis), not "Redis_Failure"');
    expectProblem(load(rb(step('Restart', 'note: n'))), 16, 13, 'step "Restart": "id" must be lowercase letters, digits and dashes');
    expectProblem(load(rb().replace('  - id: p1', '  - id: -p1')), 10, 9, 'phase "-p1": "id" must be lowercase letters');
    expectProblem(load(rb().replace('id: t\n', ''), 'Redis Failure.yaml'), 1, 1, 'the file name "Redis Failure.yaml" is not a valid runbook id: add "id:"');
    expectProblem(load(rb(step('abort', 'note: n'))), 16, 13, 'step "abort": "abort" is reserved for on_failure');
  });

  it('a step with no action, or more than one', () => {
    expectProblem(load(rb(step('b', 'description: nothing to do'))), 16, 9, 'step "b": has no action: a step needs exactly one of run, print, checklist, ask, note or regimes');
    expectProblem(load(rb(step('b', 'run: ls', 'note: also a note'))), 19, 9, 'step "b": has both "run" and "note": a step does exactly one of run, print, checklist, ask, note or regimes');
  });

  it.each([
    ['destructive', 'destructive: true'],
    ['shell', 'shell: true'],
    ['expect', 'expect: {exit: 0}'],
    ['timeout', 'timeout: 5s'],
    ['on_failure', 'on_failure: abort'],
    ['env', 'env: {A: b}'],
    ['cwd', 'cwd: /tmp'],
  ])('"%s" on a step that does not run anything', (field, line) => {
    expectProblem(load(rb(step('b', 'print: ls -l', line))), 19, 9, `step "b": "${field}" applies only to run steps, and this is a print step`);
  });

  it('unknown fields, wrong types and missing fields, in plain words', () => {
    expectProblem(load(rb(step('ping', 'rnu: redis-cli PING'))), 18, 9, 'step "ping": unknown field "rnu" (did you mean "run"?)');
    expectProblem(load(rb(step('b', 'run: ls', 'destructive: yes please'))), 19, 22, 'step "b": "destructive" must be true or false, not "yes please"');
    expectProblem(load(rb(step('b', 'run: ls', 'expect:', '  exit: 300'))), 20, 17, 'step "b": "expect.exit" must be from 0 to 255, not 300');
    expectProblem(load(rb('      - id: b\n        run: ls\n')), 16, 9, 'step "b": missing "title"');
    expectProblem(load(rb().replace('title: T\n', 'titel: T\n')), 2, 1, 'unknown field "titel" (did you mean "title"?)');
    expectProblem(load(rb().replace('title: T\n', '')), 1, 1, 'missing "title"');
    expectProblem(load(rb(step('b', 'checklist: []'))), 18, 20, 'step "b": "checklist" must not be empty');
    expectProblem(load(rb(step('b', 'when: sometimes', 'note: n'))), 18, 15, 'step "b": "when" must be one of always, optional, not "sometimes"');
    expectProblem(load(rb().replace('  pw:\n', '  pass-word:\n')), 7, 3, 'variable name "pass-word" must start with a letter or _');
  });

  it('YAML syntax errors and empty files', () => {
    expectProblem(load('title: [unclosed\nphases: x\n'), 2, 1, 'YAML syntax');
    expectProblem(load(''), 1, 1, 'the file is empty');
    expectProblem(load('- a\n- b\n'), 1, 1, 'the runbook must be a mapping (name: value)');
  });

  it('a billion-laughs alias bomb fails fast', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = 'abcdefghi';
    for (let i = 1; i < 9; i++) levels.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
    const text = `${levels.join('\n')}\ntitle: boom\nphases: [*i]\n`;
    const started = Date.now();
    const result = load(text);
    expect(Date.now() - started).toBeLessThan(2000);
    expectProblem(result, 1, 1, 'too many YAML aliases');
  });

  it('collects every problem of a file, not just the first', () => {
    const text = rb(
      step('a', 'note: dup') + step('b', 'run: echo {{nope}} | wc', 'on_failure: nowhere') + step('c', 'print: x', 'destructive: true') + step('d', 'rnu: x'),
      { severity: 'SEV-9', within: 'soon' },
    );
    const lines = problemsAt(load(text));
    for (const expected of [
      'rb.yaml:3:11: severity "SEV-9" is not defined',
      'rb.yaml:11:13: phase "p1": "within" must be a duration',
      'rb.yaml:16:13: step "a": the id "a" is already used',
      'rb.yaml:21:19: step "b": {{nope}} is not a declared variable',
      'rb.yaml:21:28: step "b": "|" (a pipe) needs a shell',
      'rb.yaml:22:21: step "b": on_failure names "nowhere"',
      'rb.yaml:26:9: step "c": "destructive" applies only to run steps',
      'rb.yaml:27:9: step "d": has no action',
      'rb.yaml:29:9: step "d": unknown field "rnu" (did you mean "run"?)',
    ]) {
      expect(lines.some((l) => l.startsWith(expected)), `${expected}\n--- got:\n${lines.join('\n')}`).toBe(true);
    }
    expect(lines.length).toBe(9);
  });
});

describe('directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ir-runbooks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every runbook file, skips severities/evidence/schema files, and flags duplicate ids', () => {
    writeFileSync(join(dir, 'one.yaml'), rb('', { id: 'shared' }));
    writeFileSync(join(dir, 'two.yml'), rb('', { id: 'shared' }));
    writeFileSync(join(dir, 'three.yaml'), rb().replace('id: t\n', ''));
    writeFileSync(join(dir, 'broken.yaml'), rb(step('b', 'run: ls | wc'), { id: 'broken' }));
    writeFileSync(join(dir, 'severities.yaml'), readFileSync(join(ROOT, 'runbooks', 'severities.yaml')));
    writeFileSync(join(dir, 'evidence.yaml'), 'collectors: []\n');
    writeFileSync(join(dir, 'notes.txt'), 'not yaml\n');
    const result = loadRunbookDir(dir, { severityIds: SEVERITIES, display: (p) => p.slice(dir.length + 1) });
    expect(result.files.map((f) => f.file)).toEqual(['broken.yaml', 'one.yaml', 'three.yaml', 'two.yml']);
    expect(result.runbooks.map((r) => r.id)).toEqual(['shared', 'three']);
    expect(result.problems.map(formatProblem)).toEqual([
      'broken.yaml:18:17: step "b": "|" (a pipe) needs a shell: add shell: true, or quote it if it is meant literally',
      'two.yml:1:5: runbook id "shared" is already used by one.yaml: ids must be unique in a directory',
    ]);
  });

  it('finds a runbook by id or by path, and says what is wrong when it cannot', () => {
    expect(findRunbook(dir, 'three').id).toBe('three');
    expect(findRunbook(dir, join(dir, 'three.yaml')).id).toBe('three');
    expect(() => findRunbook(dir, 'thre')).toThrow(/no runbook "thre" in .* \(did you mean "three"\?\); `ir runbook list` shows them/);
    expect(() => findRunbook(dir, 'broken')).toThrow(/18:17: step "b": "\|" \(a pipe\)/);
    expect(loadRunbookFile(join(dir, 'missing.yaml')).problems[0].message).toBe('file not found');
  });
});
