// A value that reaches a second shell parse (sh -c, eval, ssh's remote command, su -c, watch, …,
// also behind sudo, env, timeout, nohup, xargs, find -exec, kubectl exec --, docker exec) is a load
// error at the value's file:line:col, with or without shell: true; look-alikes without a second
// parse load. Each refused form is also run through /bin/sh to show that its payload really executes.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/yaml.js';
import { loadRunbookText } from '../../src/runbooks/loader.js';
import { findNestedShell } from '../../src/runbooks/nested.js';
import { ir, tempHome } from '../helpers/cli.js';

/** [run command, shell: true?] — every one hands {{v}} to a second shell parse. */
export const NESTED: Array<[string, boolean]> = [
  ['sh -c "echo {{v}}"', false],
  ['bash -c "ls {{v}}"', false],
  ['bash -lc "ls {{v}}"', false],
  ["dash -euo pipefail -c 'echo '{{v}}", false],
  ['zsh -c "echo {{v}}"', false],
  ['eval echo {{v}}', true],
  ['ssh db.internal "cat {{v}}"', false],
  ['ssh -p 2222 -i key.pem ops@db.internal cat {{v}}', false],
  ['ssh -o ProxyCommand="nc {{v}} 22" db.internal uptime', false],
  ['kubectl exec deploy/api -n prod -- sh -c "cat {{v}}"', false],
  ['docker exec -u root backend sh -c "cat {{v}}"', false],
  ['docker run --rm -e A=b alpine sh -c "echo {{v}}"', false],
  ['su -c "cat {{v}}" postgres', false],
  ['sudo sh -c "cat {{v}}"', false],
  ['sudo -u postgres bash -c "psql -c {{v}}"', false],
  ['sudo -i ls {{v}}', false],
  ['xargs -I{} sh -c "echo {} {{v}}"', false],
  ['watch -n 5 ls {{v}}', false],
  ['env A=b sh -c "x {{v}}"', false],
  ['env -S "ls {{v}}"', false],
  ['timeout 5 sh -c "x {{v}}"', false],
  ['nohup sh -c "x {{v}}"', false],
  ['nice -n 5 ionice -c 3 sh -c "x {{v}}"', false],
  ['flock /tmp/lock -c "x {{v}}"', false],
  ['runuser -l postgres -c "y {{v}}"', false],
  ['script -qc "y {{v}}" /dev/null', false],
  ['find /var/log -name "*.log" -exec sh -c "gzip {{v}}" \\;', false],
  ["sh -c 'echo '{{v}}", true],
  ['echo start | sh -c "cat {{v}}"', true],
  ['sh -c "$(echo {{v}})"', true],
  ['kubectl exec pod -- sh -c x && eval {{v}}', true],
  ['tmux new-session -d "tail -f {{v}}"', false],
];

/** Safe look-alikes: the value reaches a program as data, never a second shell parse. */
const SAFE: Array<[string, boolean]> = [
  ['kubectl exec pod -- cat {{v}}', false],
  ['kubectl exec deploy/api -n prod -- nslookup {{v}}', false],
  ['sh -c \'echo "$1"\' _ {{v}}', false],
  ['bash script.sh {{v}}', false],
  ['ssh {{v}} uptime', false],
  ['ssh -i key.pem {{v}} uptime', false],
  ['echo sh -c {{v}}', false],
  ['find {{v}} -maxdepth 2 -exec ls -l {} +', false],
  ['sudo ls {{v}}', false],
  ['sudo -u postgres psql -c "SELECT 1" -d {{v}}', false],
  ['watch -x ls {{v}}', false],
  ['timeout 10 cat {{v}}', false],
  ['env A={{v}} printenv A', false],
  ['docker run --rm -e X={{v}} alpine sh -c \'echo "$X"\'', false],
  ['kubectl logs {{v}} | grep -c error', true],
  ['grep -F {{v}} /var/log/syslog | sh -c "wc -l"', true],
];

function runbook(command: string, shell: boolean): string {
  return [
    'title: T',
    'variables:',
    '  v:',
    '    default: x',
    'phases:',
    '  - id: p',
    '    steps:',
    '      - id: s',
    '        title: S',
    `        run: '${command.replace(/'/g, "''")}'`,
    ...(shell ? ['        shell: true'] : []),
  ].join('\n');
}

describe('nested shell parses', () => {
  it(`refuses ${NESTED.length} forms at the value's file:line:col, naming the step`, () => {
    expect(NESTED.length).toBeGreaterThanOrEqual(16);
    for (const [command, shell] of NESTED) {
      const r = loadRunbookText(runbook(command, shell), 'rb.yaml', '/runbooks/rb.yaml');
      // The command starts at column 15 of `        run: '…'`; quotes are doubled inside.
      const col = 15 + command.replace(/'/g, "''").indexOf('{{v}}');
      const nested = r.problems.map(formatProblem).filter((p) => p.includes('reaches'));
      expect(nested.length, `${command} was not refused`).toBeGreaterThanOrEqual(1);
      expect(nested[0], command).toMatch(new RegExp(`^rb\\.yaml:10:${col}: step "s": \\{\\{v\\}\\} reaches "`));
      expect(r.runbook).toBeUndefined();
    }
  });

  it('accepts look-alikes where the value is only data', () => {
    for (const [command, shell] of SAFE) {
      const r = loadRunbookText(runbook(command, shell), 'rb.yaml', '/runbooks/rb.yaml');
      expect(r.problems.map(formatProblem), command).toEqual([]);
    }
  });

  it('says which program re-parses the value and through which wrappers', () => {
    const [kube] = findNestedShell('kubectl exec deploy/api -- sudo timeout 5 sh -c "cat {{file}}"', false);
    expect(kube.error).toMatch(/^\{\{file\}\} reaches "sh -c" \(through kubectl exec -- → sudo → timeout\), which parses its script argument as shell code again/);
    expect(kube.error).toMatch(/sh -c '… "\$1"' _ \{\{file\}\}/);
    const [ssh] = findNestedShell('ssh db "cat {{file}}"', false);
    expect(ssh.error).toMatch(/reaches "ssh", which joins the remote command's words and the remote shell parses it/);
    const [shell] = findNestedShell("sh -c 'cat '{{file}}", true);
    expect(shell.error).toMatch(/shell: true quotes the value only for the outer shell/);
  });

  it('with shell: true each value is inserted as one single-quoted word, which is why the outer quoting does not help', async () => {
    const { renderShell } = await import('../../src/runbooks/words.js');
    const dir = mkdtempSync(join(tmpdir(), 'ir-nested-'));
    try {
      const marker = join(dir, 'pwned');
      const payload = `x'; touch ${marker}; '`;
      // The outer shell gets the value as one word…
      const outer = renderShell('printf "[%s]\\n" {{v}}', { v: payload });
      expect(outer).toBe(`printf "[%s]\\n" 'x'\\''; touch ${marker}; '\\'''`);
      expect(execFileSync('/bin/sh', ['-c', outer], { encoding: 'utf8' })).toBe(`[${payload}]\n`);
      expect(existsSync(marker)).toBe(false);
      // …but a second parse of that word runs the payload: this is what validate refuses.
      execFileSync('/bin/sh', ['-c', renderShell("sh -c 'echo '{{v}}", { v: `$(touch ${marker})` })], { encoding: 'utf8' });
      expect(existsSync(marker)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ir runbook validate (the real binary)', () => {
  const { home, cleanup } = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'ir-nested-rb-'));
  afterAll(() => {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`exits 2 with file:line:col and the step for each of the ${NESTED.length} nested forms, and passes the look-alikes`, () => {
    NESTED.forEach(([command, shell], i) => writeFileSync(join(dir, `nested-${String(i).padStart(2, '0')}.yaml`), runbook(command, shell)));
    SAFE.forEach(([command, shell], i) => writeFileSync(join(dir, `safe-${String(i).padStart(2, '0')}.yaml`), runbook(command, shell)));
    const r = ir(home, ['runbook', 'validate', dir]);
    expect(r.code).toBe(2);
    const lines = r.stdout.split('\n').filter((l) => l.includes('reaches'));
    for (let i = 0; i < NESTED.length; i++) {
      expect(lines.some((l) => new RegExp(`nested-${String(i).padStart(2, '0')}\\.yaml:10:\\d+: step "s": \\{\\{v\\}\\} reaches "`).test(l)), NESTED[i][0]).toBe(true);
    }
    expect(r.stdout).not.toMatch(/safe-\d+\.yaml/);
  });
});
