// Word splitting and substitution: a value is always exactly one literal argument, with or without a shell.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WordTemplate } from '../../src/runbooks/format.js';
import {
  checkShellCommand,
  displayCommand,
  displayText,
  findReferences,
  parseTemplate,
  renderArgv,
  renderShell,
  renderText,
  splitCommand,
} from '../../src/runbooks/words.js';

function words(text: string): WordTemplate[] {
  const r = splitCommand(text);
  if ('error' in r) throw new Error(`${text}: ${r.error} at ${r.column}`);
  return r.words;
}

function argv(text: string, values: Record<string, string> = {}): string[] {
  return renderArgv(words(text), values);
}

function splitError(text: string): { error: string; column: number } {
  const r = splitCommand(text);
  if (!('error' in r)) throw new Error(`${text}: expected an error, got ${JSON.stringify(r.words)}`);
  return r;
}

const scratch = mkdtempSync(join(tmpdir(), 'ir-words-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const pwned = join(scratch, 'pwned');

/** Values an attacker (or a careless paste) might put in a variable. */
const HOSTILE = [
  `x; touch ${pwned}`,
  `$(touch ${pwned})`,
  `\`touch ${pwned}\``,
  '--all-namespaces',
  'two words',
  '',
  "it's",
  `'; touch ${pwned}; '`,
  `\\'; touch ${pwned} #`,
  `"; touch ${pwned}; "`,
  'line\nbreak',
  '*',
  '$HOME',
  '{{other}}',
];

describe('splitCommand', () => {
  it('splits on whitespace and keeps references as parts of their word', () => {
    expect(words('redis-cli -h {{host}} PING')).toEqual([
      [{ kind: 'text', text: 'redis-cli' }],
      [{ kind: 'text', text: '-h' }],
      [{ kind: 'var', name: 'host' }],
      [{ kind: 'text', text: 'PING' }],
    ]);
    expect(words('--since={{ since }}h')).toEqual([[{ kind: 'text', text: '--since=' }, { kind: 'var', name: 'since' }, { kind: 'text', text: 'h' }]]);
  });

  it('respects single and double quotes like a POSIX shell', () => {
    expect(argv('psql -c "SELECT count(*) FROM t"')).toEqual(['psql', '-c', 'SELECT count(*) FROM t']);
    expect(argv(`echo 'a "b" $x \\n | ; *'`)).toEqual(['echo', 'a "b" $x \\n | ; *']);
    expect(argv('echo "a \\" \\\\ \\$ \\` \\n"')).toEqual(['echo', 'a " \\ $ ` \\n']);
    expect(argv(`--x='a b'"c"d`)).toEqual(['--x=a bcd']);
    expect(argv(`echo '' ""`)).toEqual(['echo', '', '']);
    expect(argv(`echo "it's"`)).toEqual(['echo', "it's"]);
  });

  it('handles backslashes outside quotes and line continuations', () => {
    expect(argv('echo a\\ b \\* \\|')).toEqual(['echo', 'a b', '*', '|']);
    expect(argv('kubectl get pods \\\n  -A')).toEqual(['kubectl', 'get', 'pods', '-A']);
    expect(argv('echo "a\\\nb"')).toEqual(['echo', 'ab']);
  });

  it('substitutes references inside quotes too, still as one word', () => {
    expect(argv(`psql -c "SELECT * FROM {{table}} LIMIT 1"`, { table: 'users; DROP TABLE x' })).toEqual(['psql', '-c', 'SELECT * FROM users; DROP TABLE x LIMIT 1']);
    expect(argv(`grep '{{pattern}}'`, { pattern: 'a b' })).toEqual(['grep', 'a b']);
  });

  it('leaves Go templates alone and reads \\{{ as a literal {{', () => {
    expect(argv(`docker inspect -f '{{.State.Status}}' {{name}}`, { name: 'web' })).toEqual(['docker', 'inspect', '-f', '{{.State.Status}}', 'web']);
    expect(argv(`kubectl get pods -o go-template='{{range .items}}\\{{end}}'`)).toEqual(['kubectl', 'get', 'pods', '-o', 'go-template={{range .items}}{{end}}']);
  });

  it.each([
    ['kubectl logs api | grep err', 18, /"\|" \(a pipe\) needs a shell: add shell: true/],
    ['make a || true', 8, /"\|\|" needs a shell/],
    ['make a && make b', 8, /"&&" needs a shell/],
    ['sleep 5 &', 9, /"&" \(run in the background\)/],
    ['echo a; rm -rf /', 7, /";" \(a command separator\)/],
    ['echo a > /etc/passwd', 8, /">" \(a redirect\)/],
    ['psql < dump.sql', 6, /"<" \(a redirect\)/],
    ['echo a >> log', 8, /">>" \(a redirect\)/],
    ['echo $(id)', 6, /"\$\(\.\.\.\)" \(command substitution\)/],
    ['echo "$(id)"', 7, /command substitution/],
    ['echo `id`', 6, /backticks/],
    ['echo $HOME', 6, /"\$HOME" is expanded only by a shell/],
    ['echo "${USER}"', 7, /"\$\{USER\}" is expanded only by a shell/],
    ['ls *.log', 4, /unquoted "\*" is a wildcard/],
    ['ls file?.txt', 8, /unquoted "\?" is a wildcard/],
    ['ls [ab].txt', 4, /unquoted "\[" is a wildcard/],
    [`echo 'abc`, 6, /unbalanced quotes: the ' here is never closed/],
    ['echo "abc', 6, /unbalanced quotes: the " here is never closed/],
    ['FOO=1 make', 1, /use env: instead/],
    ['echo a # comment', 8, /"#" starts a comment/],
    ['cat ~/x', 5, /"~" at the start of a word/],
    ['echo a\\', 7, /backslash at the end/],
    ['   ', 1, /the command is empty/],
    ['(cd /tmp)', 1, /"\(" needs a shell/],
  ])('refuses %j at column %i', (text, column, message) => {
    const e = splitError(text);
    expect(e.error).toMatch(message);
    expect(e.column).toBe(column);
  });

  it('accepts the same characters when they are quoted', () => {
    expect(argv(`grep -E 'a|b' "c;d" 'e*' "f?" '[x]' '$(id)' "a && b" '#' '~'`)).toEqual(['grep', '-E', 'a|b', 'c;d', 'e*', 'f?', '[x]', '$(id)', 'a && b', '#', '~']);
    expect(argv('echo a#b x~y cost$')).toEqual(['echo', 'a#b', 'x~y', 'cost$']);
    expect(argv('echo ${{price}}', { price: '12' })).toEqual(['echo', '$12']);
  });
});

describe('renderArgv: values are never split again', () => {
  it.each(HOSTILE)('%j stays one literal argument', (value) => {
    expect(argv(`printf '[%s]' {{v}}`, { v: value })).toEqual(['printf', '[%s]', value]);
    expect(argv('echo --flag={{v}}', { v: value })).toEqual(['echo', `--flag=${value}`]);
  });

  it('runs without a shell: the hostile values arrive literally and nothing is executed', () => {
    for (const value of HOSTILE) {
      const [cmd, ...args] = argv(`printf '[%s]' {{v}}`, { v: value });
      const out = execFileSync(cmd, args, { encoding: 'utf8' });
      expect(out).toBe(`[${value}]`);
    }
    expect(existsSync(pwned)).toBe(false);
  });

  it('a missing value is an error naming the variable', () => {
    expect(() => argv('echo {{nope}}')).toThrow(/no value for \{\{nope\}\}/);
  });

  it('a variable named like an Object property is not found on the prototype', () => {
    expect(() => argv('echo {{constructor}}', {})).toThrow(/no value for \{\{constructor\}\}/);
    expect(renderArgv(words('echo {{v}}'), new Map([['v', 'map value']]))).toEqual(['echo', 'map value']);
  });
});

describe('renderShell: values single-quoted for /bin/sh', () => {
  it('quotes each value as one word', () => {
    expect(renderShell('kubectl logs {{pod}} | grep -i redis', { pod: 'api-1' })).toBe(`kubectl logs 'api-1' | grep -i redis`);
    expect(renderShell('echo {{v}}', { v: "it's" })).toBe(`echo 'it'\\''s'`);
    expect(renderShell(`echo '\\{{x}}'`, {})).toBe(`echo '{{x}}'`);
  });

  it.each(HOSTILE)('%j arrives literally through sh -c', (value) => {
    const script = renderShell('printf "[%s]" {{v}} | cat; printf "<%s>" --since={{v}}', { v: value });
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    expect(out).toBe(`[${value}]<--since=${value}>`);
    expect(existsSync(pwned)).toBe(false);
  });

  it('still works inside $(...) and after a pipe', () => {
    const out = execFileSync('/bin/sh', ['-c', renderShell('echo "$(printf %s {{v}})" | cat', { v: `a'; touch ${pwned}; '` })], { encoding: 'utf8' });
    expect(out).toBe(`a'; touch ${pwned}; '\n`);
    expect(existsSync(pwned)).toBe(false);
  });
});

describe('checkShellCommand', () => {
  it('accepts references outside quotes', () => {
    expect(checkShellCommand('kubectl logs {{pod}} --since=1h | grep -i "redis" > /dev/null')).toEqual([]);
    expect(checkShellCommand('echo "$(echo {{v}})" $(cat {{file}}) # {{comment}} in a comment')).toEqual([]);
  });

  it.each([
    [`echo '{{x}}'`, 7, /\{\{x\}\} is inside quotes: .* without quotes around it/],
    [`echo "{{x}}"`, 7, /\{\{x\}\} is inside quotes/],
    [`echo "prefix-{{x}}"`, 14, /inside quotes/],
    ['echo `cat {{x}}`', 11, /inside backticks: use \$\(\.\.\.\) instead/],
    ['echo ${{{x}}}', 8, /inside \$\{\.\.\.\}/],
    ['echo $(( {{x}} + 1 ))', 10, /inside \$\(\(\.\.\.\)\)/],
    ['cat <<EOF\n{{x}}\nEOF', 11, /here-document/],
    ['echo ${{x}}', 7, /"\$" right before \{\{x\}\}/],
    [`echo 'abc | grep x`, 6, /unbalanced quotes: the ' here is never closed/],
    ['echo "abc | grep x', 6, /unbalanced quotes: the " here is never closed/],
    ['echo `abc', 6, /unbalanced backticks/],
  ])('refuses %j at column %i', (text, column, message) => {
    const problems = checkShellCommand(text);
    expect(problems.length, JSON.stringify(problems)).toBeGreaterThan(0);
    expect(problems[0].error).toMatch(message);
    expect(problems[0].column).toBe(column);
  });
});

describe('templates and display', () => {
  it('finds references with their offsets', () => {
    expect(findReferences('a {{x}} b {{ y }} \\{{z}} {{.Go}}')).toEqual([
      { name: 'x', offset: 2 },
      { name: 'y', offset: 10 },
    ]);
  });

  it('renders text templates as they are', () => {
    const t = parseTemplate('kubectl -n {{ns}} get pods | grep {{app}}');
    expect(renderText(t, { ns: 'prod', app: 'a b' })).toBe('kubectl -n prod get pods | grep a b');
    expect(displayText(t, { ns: 'prod' }, { secrets: new Set(['app']) })).toBe('kubectl -n prod get pods | grep ****');
    expect(displayText(t, { ns: 'prod' })).toBe('kubectl -n prod get pods | grep {{app}}');
  });

  it('shows commands with secrets masked, missing values as {{name}}, quoting only where needed', () => {
    const source = 'psql -h {{host}} -U {{user}} -c "SELECT count(*) FROM t" --password={{pw}} {{db}}';
    const command = { shell: false as const, source, words: words(source) };
    expect(displayCommand(command, { host: 'db.internal', user: 'a b', pw: 'hunter2' }, { secrets: new Set(['pw']) })).toBe(
      `psql -h db.internal -U 'a b' -c 'SELECT count(*) FROM t' --password=**** {{db}}`,
    );
    const shell = { shell: true as const, source: 'kubectl logs {{pod}} | grep {{pw}}' };
    expect(displayCommand(shell, { pod: 'api-1', pw: 'secret' }, { secrets: new Set(['pw']) })).toBe('kubectl logs api-1 | grep ****');
    expect(displayCommand({ shell: false, source: "echo ''", words: words("echo ''") }, {})).toBe("echo ''");
  });
});
