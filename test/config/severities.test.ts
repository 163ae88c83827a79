// Severity definitions: any naming scheme loads; a broken file is exit 2 with file:line and no stack trace.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, tempHome } from '../helpers/cli.js';

const GOOD_P = `levels:
  - id: P1
    name: Urgent
    definition: Customer-facing outage
    respond_within: 10m
    resolve_within: 2h
    update_every: 20m
  - id: P2
    definition: Degraded
    respond_within: 1h
    resolve_within: 1d
escalation:
  - after: 0m
    notify: Primary
  - after: 20m
    notify: Manager
`;

const BAD: Record<string, { text: string; line: number; message: RegExp }> = {
  'syntax error': {
    text: 'levels:\n  - id: SEV-0\n    name: [unclosed\n    definition: x\n',
    line: 4,
    message: /YAML syntax/,
  },
  'missing respond_within': {
    text: 'levels:\n  - id: SEV-0\n    definition: down\n    resolve_within: 1h\n',
    line: 2,
    message: /missing "respond_within": expected a duration such as 90s, 5m, 1h or 1h30m/,
  },
  'duplicate ids': {
    text: 'levels:\n  - id: P0\n    definition: a\n    respond_within: 5m\n    resolve_within: 1h\n  - id: P0\n    definition: b\n    respond_within: 5m\n    resolve_within: 1h\n',
    line: 6,
    message: /duplicate severity id "P0"/,
  },
  'duration in words': {
    text: 'levels:\n  - id: SEV-0\n    definition: down\n    respond_within: five minutes\n    resolve_within: 1h\n',
    line: 4,
    message: /"respond_within" is "five minutes": expected a duration/,
  },
  'unknown field': {
    text: 'levels:\n  - id: SEV-0\n    definition: down\n    respond_within: 5m\n    resolve_within: 1h\n    respnd: 5m\n',
    line: 6,
    message: /unknown field "respnd"/,
  },
};

describe('severity definitions', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('a team directory with P1..P2 replaces the shipped SEV levels', () => {
    const dir = join(home, 'team-p', 'runbooks');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'severities.yaml'), GOOD_P);
    const r = ir(home, ['declare', '--json', '-t', 'pager storm', '-s', 'p1', '--runbooks', dir]);
    expect(r.code, r.stderr).toBe(0);
    const inc = json<{ id: string; severity: string; declared_at: string; sla: { respond: { due: string } } }>(r);
    expect(inc.severity).toBe('P1');
    expect(Date.parse(inc.sla.respond.due) - Date.parse(inc.declared_at)).toBe(10 * 60_000);
    expect(ir(home, ['declare', '-t', 'x', '-s', 'SEV-1', '--runbooks', dir]).stderr).toMatch(/defines P1, P2/);
    ir(home, ['resolve', '--summary', 'done', '--incident', inc.id, '--runbooks', dir]);
  });

  it('is found from the working directory upward, and via IR_RUNBOOKS', () => {
    const project = join(home, 'project');
    mkdirSync(join(project, 'runbooks'), { recursive: true });
    mkdirSync(join(project, 'src', 'deep'), { recursive: true });
    writeFileSync(join(project, 'runbooks', 'severities.yaml'), GOOD_P);
    const found = ir(home, ['declare', '--json', '-t', 'x', '-s', 'P2'], { cwd: join(project, 'src', 'deep') });
    expect(found.code, found.stderr).toBe(0);
    const viaEnv = ir(home, ['declare', '--json', '-t', 'y', '-s', 'P2'], { env: { IR_RUNBOOKS: join(project, 'runbooks') } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    for (const id of [json<{ id: string }>(found).id, json<{ id: string }>(viaEnv).id]) ir(home, ['resolve', '--summary', 'ok', '--incident', id]);
  });

  for (const [name, bad] of Object.entries(BAD)) {
    it(`${name}: exit 2, file:line, no stack trace`, () => {
      const dir = join(home, name.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'severities.yaml'), bad.text);
      const r = ir(home, ['declare', '-t', 'x', '-s', 'SEV-0', '--runbooks', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`severities\\.yaml:${bad.line}:\\d+: `));
      expect(r.stderr).toMatch(bad.message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().split('\n')[0].length).toBeLessThan(200);
      // Nothing was recorded by the failed command.
      expect(json<{ incidents: unknown[] }>(ir(home, ['list', '--json'])).incidents).toHaveLength(0);
    });
  }
});
