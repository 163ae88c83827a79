// What a value may be: each type's accepted and refused values, patterns, the dash rule, NUL and
// line breaks; and the loader's checks of type, pattern, allow_dash and defaults at file:line:col.

import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/yaml.js';
import type { ValueRule } from '../../src/runbooks/format.js';
import { loadRunbookText } from '../../src/runbooks/loader.js';
import { receivers, valueProblem, variableRules } from '../../src/runbooks/values.js';

const rule = (r: Partial<ValueRule>): ValueRule => ({ allowDash: false, ...r });

describe('valueProblem', () => {
  it.each([
    ['name', ['web-1', 'a.b.c', 'x', '0', 'kube-system', 'a'.repeat(253)], ['Web', 'web_1', 'web-', 'a..b', '.a', 'a b', 'a'.repeat(254), '', 'pod/x']],
    ['host', ['db.example.com', '10.0.0.7', '::1', 'fe80::1', '2001:db8::8a2e:370:7334', 'localhost', 'example.com.', 'Db-1.Example.COM'], ['db..x', 'a b', 'http://x', 'x_y.com', '', '-h', `${'a'.repeat(64)}.com`, '10.0.0.7/8', '[::1]']],
    ['port', ['1', '80', '5432', '65535'], ['0', '65536', '54x', '+80', '', ' 80', '1e3']],
    ['int', ['0', '42', '123456789012', '007'], ['1.5', 'ten', '', '1e3', '+1', '0x10']],
    ['path', ['/var/backups', './-delete', 'relative/dir', '.', 'a b/c'], ['']],
    ['url', ['https://api.example.com/health', 'http://127.0.0.1:9090', 'mongodb://u:p@a:1,b:2/?replicaSet=rs0', 'http://[::1]:8080/x', 'postgres://u@h/db'], ['api.example.com', 'http://', 'http://a b', 'https:///x', '', 'https://[::1/x', 'javascript:alert(1)']],
    ['text', ['anything; $(id) `x` | y', 'two\nlines', '', 'tab\there'], []],
  ] as const)('type %s', (type, good, bad) => {
    for (const v of good) expect(valueProblem(v, rule({ type })), JSON.stringify(v)).toBeUndefined();
    for (const v of bad) expect(valueProblem(v, rule({ type })), `${JSON.stringify(v)} was accepted`).toBeDefined();
  });

  it('a leading dash is refused for every type, untyped too, unless allow_dash', () => {
    for (const type of [undefined, 'name', 'host', 'port', 'int', 'path', 'url', 'text'] as const) {
      expect(valueProblem('-delete', rule({ type }))).toMatch(/"-delete" begins with "-", so the program would read it as an option/);
      expect(valueProblem('--all-namespaces', rule({ type }))).toMatch(/begins with "-"/);
    }
    expect(valueProblem('-5', rule({ type: 'int', allowDash: true }))).toBeUndefined();
    expect(valueProblem('--x', rule({ allowDash: true }))).toBeUndefined();
    expect(valueProblem('-x', rule({ type: 'port', allowDash: true }))).toMatch(/is not a port/);
    expect(valueProblem('-delete', rule({ type: 'path' }))).toContain('./-delete');
  });

  it('NUL is refused everywhere, line breaks everywhere but text', () => {
    for (const type of [undefined, 'name', 'path', 'text'] as const) expect(valueProblem('a\0b', rule({ type }))).toMatch(/NUL/);
    for (const type of [undefined, 'name', 'host', 'path', 'url'] as const) {
      expect(valueProblem('a\nb', rule({ type }))).toMatch(/line break/);
      expect(valueProblem('a\rb', rule({ type }))).toMatch(/line break/);
    }
    expect(valueProblem('a\nb', rule({ type: 'text' }))).toBeUndefined();
  });

  it('a pattern must match the whole value, after the type', () => {
    const r = rule({ pattern: 'v[0-9]+\\.[0-9]+' });
    expect(valueProblem('v1.2', r)).toBeUndefined();
    expect(valueProblem('v1.2.3', r)).toMatch(/does not match the pattern \/v\[0-9\]\+\\\.\[0-9\]\+\//);
    expect(valueProblem('xv1.2', r)).toBeDefined();
    expect(valueProblem('a|b', rule({ pattern: 'a|b' }))).toBeDefined(); // the alternation is anchored as a whole
    expect(valueProblem('b', rule({ pattern: 'a|b' }))).toBeUndefined();
    expect(valueProblem('x', rule({ type: 'int', pattern: '.*' }))).toMatch(/whole number/);
  });

  it('a secret value is never echoed in the reason', () => {
    for (const v of ['-SeCrEt', 'SeCrEt\nx', 'Se\0Cret']) expect(valueProblem(v, rule({ type: 'name' }), true)).not.toMatch(/SeCrEt|Se.Cret/);
    expect(valueProblem('SeCrEt', rule({ type: 'int' }), true)).toBe('the value is not a whole number');
  });
});

function load(text: string) {
  return loadRunbookText(text, 'rb.yaml', '/runbooks/rb.yaml');
}

describe('the loader', () => {
  const head = ['title: T', 'variables:'];

  it('reads type, pattern and allow_dash, and gives an ask its own rule unless the variable is declared', () => {
    const r = load([
      ...head,
      '  v:',
      '    type: port',
      '  w:',
      "    pattern: '[a-z]+'",
      '    allow_dash: true',
      'phases:',
      '  - id: p',
      '    steps:',
      '      - id: a1',
      '        title: A1',
      '        ask: {variable: pod, message: Pod?, type: name}',
      '      - id: a2',
      '        title: A2',
      '        ask: {variable: v, message: Port?}',
      '      - id: s',
      '        title: S',
      '        run: echo {{v}} {{w}} {{pod}}',
    ].join('\n'));
    expect(r.problems.map(formatProblem)).toEqual([]);
    const rules = variableRules(r.runbook!);
    expect(rules.get('v')).toMatchObject({ type: 'port', allowDash: false });
    expect(rules.get('w')).toMatchObject({ pattern: '[a-z]+', allowDash: true });
    expect(rules.get('pod')).toMatchObject({ type: 'name', allowDash: false });
    expect(receivers(r.runbook!, 'pod')).toBe('step "s" (rb.yaml:17) would receive it');
  });

  it('unknown type, bad pattern, default failing its own rule, and a rule written twice: file:line:col naming the field', () => {
    const r = load([
      ...head, // 1-2
      '  v:', // 3
      '    type: hostname', // 4
      '  w:', // 5
      "    pattern: '(a'", // 6
      '  x:', // 7
      '    type: int', // 8
      '    default: -1', // 9
      '  y:', // 10
      "    pattern: '[a-z]+'", // 11
      '    default: ABC', // 12
      '  z:', // 13
      '    type: name', // 14
      '    allow_dash: yes', // 15
      'phases:', // 16
      '  - id: p', // 17
      '    steps:', // 18
      '      - id: a', // 19
      '        title: A', // 20
      '        ask:', // 21
      '          variable: x', // 22
      '          message: X?', // 23
      '          type: name', // 24
      '      - id: b', // 25
      '        title: B', // 26
      '        ask: {variable: q, message: Q?, type: port, default: "0"}', // 27
      '      - id: s', // 28
      '        title: S', // 29
      '        run: echo {{v}} {{w}} {{x}} {{y}} {{z}} {{q}}', // 30
    ].join('\n'));
    expect(r.problems.map(formatProblem)).toEqual([
      'rb.yaml:4:11: variable "v": "type" must be one of name, host, port, int, path, url, text, not "hostname"',
      'rb.yaml:6:14: variable "w": "pattern" is not a valid regular expression: Unterminated group',
      'rb.yaml:9:14: variable "x": the default "-1" begins with "-", so the program would read it as an option, not as a value; a variable that really takes such values needs allow_dash: true in the runbook',
      'rb.yaml:12:14: variable "y": the default "ABC" does not match the pattern /[a-z]+/',
      'rb.yaml:15:17: variable "z": "allow_dash" must be true or false, not "yes"',
      'rb.yaml:24:11: step "a": "x" is declared under "variables", so its type, pattern and allow_dash are set there: remove "type" here',
      'rb.yaml:27:62: step "b": the default "0" is not a port (a whole number from 1 to 65535)',
    ]);
  });

  it('every variable and ask of the shipped runbooks has a type or a pattern', async () => {
    const { loadRunbookDir } = await import('../../src/runbooks/loader.js');
    const { ROOT } = await import('../helpers/cli.js');
    const { runbooks, problems } = loadRunbookDir(`${ROOT}/runbooks`);
    expect(problems).toEqual([]);
    expect(runbooks).toHaveLength(22);
    const untyped: string[] = [];
    for (const rb of runbooks) for (const [name, r] of variableRules(rb)) if (!r.type && r.pattern === undefined) untyped.push(`${rb.id}: ${name}`);
    expect(untyped).toEqual([]);
    const pid = variableRules(runbooks.find((rb) => rb.id === 'postgres-connection-exhaustion')!).get('pid');
    expect(pid).toMatchObject({ type: 'int', allowDash: false });
  });
});
