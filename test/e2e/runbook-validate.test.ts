// `ir runbook validate|list|show` through the real binary: every problem of every file listed at
// file:line:col, exit 2, no stack trace; the shipped runbooks all validate.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, ROOT, tempHome } from '../helpers/cli.js';

const GOOD = `# yaml-language-server: $schema=./schema.json
id: cache
title: Cache down
severity: SEV-2
tags: [cache]
variables:
  host:
    default: 127.0.0.1
  namespace:
    default: prod
  password:
    env: CACHE_PASSWORD
    secret: true
phases:
  - id: immediate
    title: Immediate actions
    within: 5m
    steps:
      - id: ping
        title: Ping
        run: redis-cli -h {{host}} PING
        env:
          REDISCLI_AUTH: "{{password}}"
        expect:
          stdout: PONG
        on_failure: restart
      - id: restart
        title: Restart
        run: kubectl delete pod redis-0 -n {{namespace}}
        destructive: true
verify:
  - PING answers PONG
`;

const BAD_FILES: Record<string, string> = {
  // a duplicate of cache's id, and a pipe without a shell
  'copy-of-cache.yaml': GOOD.replace('{{namespace}}', '{{namespace}} | cat'),
  // an on_failure typo and an undeclared variable
  'redis-failure.yaml': GOOD.replace('id: cache', 'id: redis-failure').replace('on_failure: restart', 'on_failure: retsart').replace('-h {{host}}', '-h {{hots}}'),
  'syntax.yaml': 'title: [unclosed\nphases: []\n',
  'bomb.yaml': [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
    'title: boom',
    'phases: [*i]',
  ].join('\n'),
  'fields.yaml': GOOD.replace('id: cache', 'id: fields').replace('        run: redis-cli', '        rnu: redis-cli').replace('within: 5m', 'within: 5 minutes').replace('SEV-2', 'SEV-9'),
};

const EXPECTED = [
  'bad/bomb.yaml:1:1: too many YAML aliases',
  'bad/copy-of-cache.yaml:2:5: runbook id "cache" is already used by bad/cache.yaml',
  'bad/copy-of-cache.yaml:29:58: step "restart": "|" (a pipe) needs a shell: add shell: true',
  'bad/fields.yaml:4:11: severity "SEV-9" is not defined in bad/severities.yaml',
  'bad/fields.yaml:17:13: phase "immediate": "within" must be a duration such as 90s, 5m, 1h or 1h30m',
  'bad/fields.yaml:19:9: step "ping": has no action',
  'bad/fields.yaml:21:9: step "ping": unknown field "rnu" (did you mean "run"?)',
  'bad/redis-failure.yaml:21:27: step "ping": {{hots}} is not a declared variable',
  'bad/redis-failure.yaml:26:21: step "ping": on_failure names "retsart", which is not a later step of this runbook',
  'bad/syntax.yaml:',
];

describe('ir runbook validate / list / show (spawned)', () => {
  let home: string;
  let cleanup: () => void;
  let work: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    work = mkdtempSync(join(tmpdir(), 'ir-runbooks-e2e-'));
    const bad = join(work, 'bad');
    mkdirSync(bad);
    copyFileSync(join(ROOT, 'runbooks', 'severities.yaml'), join(bad, 'severities.yaml'));
    writeFileSync(join(bad, 'cache.yaml'), GOOD);
    for (const [name, text] of Object.entries(BAD_FILES)) writeFileSync(join(bad, name), text);
    const good = join(work, 'good');
    mkdirSync(good);
    writeFileSync(join(good, 'cache.yaml'), GOOD);
  });
  afterAll(() => {
    cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists every problem of every file at file:line:col and exits 2, without a stack trace', () => {
    const r = ir(home, ['runbook', 'validate', 'bad'], { cwd: work });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('    at ');
    const lines = r.stdout.trimEnd().split('\n');
    for (const expected of EXPECTED) {
      expect(lines.some((l) => l.startsWith(expected)), `${expected}\n--- got:\n${r.stdout}`).toBe(true);
    }
    expect(lines[lines.length - 1]).toBe(`6 runbooks, ${lines.length - 1} problems`);
    // The message is the author's words, never ajv's.
    expect(r.stdout).not.toMatch(/instancePath|schemaPath|must NOT have additional properties/);
  });

  it('--json: one document with every problem', () => {
    const r = ir(home, ['runbook', 'validate', 'bad', '--json'], { cwd: work });
    expect(r.code).toBe(2);
    const doc = json<{ ok: boolean; files: number; runbooks: number; problems: Array<{ file: string; line: number | null; col: number | null; message: string }> }>(r);
    expect(doc).toMatchObject({ ok: false, files: 7, runbooks: 6 });
    expect(doc.problems.length).toBeGreaterThanOrEqual(EXPECTED.length);
    expect(doc.problems).toContainEqual({ file: 'bad/redis-failure.yaml', line: 26, col: 21, message: expect.stringContaining('on_failure names "retsart"') });
  });

  it('checks named files, and a path that does not exist is a problem', () => {
    const one = ir(home, ['runbook', 'validate', 'bad/redis-failure.yaml', 'good'], { cwd: work });
    expect(one.code).toBe(2);
    expect(one.stdout).toContain('bad/redis-failure.yaml:26:21: step "ping": on_failure names "retsart"');
    expect(one.stdout).not.toContain('bad/cache.yaml');
    expect(one.stdout.trimEnd().split('\n').pop()).toBe('2 runbooks, 2 problems');
    const good = ir(home, ['runbook', 'validate', 'good'], { cwd: work });
    expect(good.code, good.stdout).toBe(0);
    expect(good.stdout).toBe('1 runbook, 0 problems\n');
    const missing = ir(home, ['runbook', 'validate', 'nope'], { cwd: work });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('nope: no such file or directory');
  });

  it('list shows the good runbooks of a broken directory and warns with the count and the hint', () => {
    const r = ir(home, ['runbook', 'list'], { cwd: work, env: { IR_RUNBOOKS: join(work, 'bad') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID\s+TITLE\s+SEVERITY\s+PHASES\s+STEPS\s+TAGS$/);
    expect(r.stdout).toMatch(/^cache\s+Cache down\s+SEV-2\s+1\s+2\s+cache$/m);
    expect(r.stdout).not.toContain('redis-failure');
    expect(r.stderr).toMatch(/warning: \d+ problems in 5 files/);
    expect(r.stderr).toContain('`ir runbook validate`');
    const doc = json<{ runbooks: Array<{ id: string; steps: number }>; problems: number }>(ir(home, ['runbook', 'list', '--json'], { cwd: work, env: { IR_RUNBOOKS: join(work, 'bad') } }));
    expect(doc.runbooks).toEqual([{ id: 'cache', title: 'Cache down', severity: 'SEV-2', phases: 1, steps: 2, tags: ['cache'], file: 'bad/cache.yaml' }]);
    expect(doc.problems).toBeGreaterThanOrEqual(EXPECTED.length);
  });

  it('show fills commands in with defaults, masks secrets, marks destructive steps', () => {
    const r = ir(home, ['runbook', 'show', 'cache'], { cwd: work, env: { IR_RUNBOOKS: join(work, 'good'), CACHE_PASSWORD: 'hunter2' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Phase 1: Immediate actions (immediate, within 5m)');
    expect(r.stdout).toContain('$ redis-cli -h 127.0.0.1 PING');
    expect(r.stdout).toContain('REDISCLI_AUTH=****');
    expect(r.stdout).toMatch(/Restart .*DESTRUCTIVE/);
    expect(r.stdout).toContain('on failure: go to restart');
    expect(r.stdout).not.toContain('hunter2');
    const doc = json<{ phases: Array<{ within: string; steps: Array<{ id: string; display: string; destructive: boolean; env: Record<string, string> }> }> }>(
      ir(home, ['runbook', 'show', 'cache', '--json'], { cwd: work, env: { IR_RUNBOOKS: join(work, 'good') } }),
    );
    expect(doc.phases[0].within).toBe('5m');
    expect(doc.phases[0].steps[0]).toMatchObject({ id: 'ping', display: 'redis-cli -h 127.0.0.1 PING', env: { REDISCLI_AUTH: '****' } });
    expect(doc.phases[0].steps[1]).toMatchObject({ id: 'restart', display: 'kubectl delete pod redis-0 -n prod', destructive: true });
    const missing = ir(home, ['runbook', 'show', 'cach'], { cwd: work, env: { IR_RUNBOOKS: join(work, 'good') } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no runbook "cach"');
    expect(missing.stderr).toContain('did you mean "cache"?');
    const broken = ir(home, ['runbook', 'show', 'redis-failure'], { cwd: work, env: { IR_RUNBOOKS: join(work, 'bad') } });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('bad/redis-failure.yaml:26:21: step "ping": on_failure names "retsart"');
    expect(broken.stderr).not.toContain('    at ');
  });

  it('every shipped runbook validates (no arguments: the default directory)', () => {
    const r = ir(home, ['runbook', 'validate'], { cwd: work });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^\d+ runbooks, 0 problems\n$/);
  });
});
