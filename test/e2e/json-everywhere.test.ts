// `--json` everywhere: every command in commander's tree, run with --json by the real bin/ir.js,
// prints exactly one JSON document on stdout (its result, or {"error": …}).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, irAsync, ROOT, tempHome, type RunResult } from '../helpers/cli.js';

/** Arguments that let each leaf do its real work in the prepared home (commander path → argv). */
const ARGS: Record<string, string[]> = {
  declare: ['-t', 'second incident', '-s', 'SEV-4'],
  note: ['rolled back api'],
  severity: ['SEV-2', '--reason', 'more users'],
  assign: ['scribe', 'bob'],
  resolve: ['--summary', 'rolled back', '--root-cause', 'bad deploy'],
  reopen: ['--reason', 'came back'],
  escalate: ['--reason', 'need help'],
  runbook: ['redis-failure', '--dry-run'],
  'runbook show': ['redis-failure'],
  'runbook run': ['redis-failure', '--dry-run'],
  'runbook import': [join(ROOT, 'test/fixtures/playbooks/docs-runbook-postgres-connections.md'), '--dry-run'],
  postmortem: ['--draft'],
  comms: ['update', '--preview', '--message', 'still rolling back'],
  'action add': ['add retries to the client'],
  'action done': ['1'],
  'evidence export': ['--out', '@HOME/evidence.tar.gz'],
  completion: ['bash'],
};


function leaves(cmd: Command, path: string[] = []): string[] {
  const out: string[] = [];
  for (const sub of cmd.commands) {
    const p = [...path, sub.name()];
    // A group with its own action (`ir runbook ID`) is a command too.
    if (!sub.commands.length || (sub as unknown as { _actionHandler?: unknown })._actionHandler) out.push(p.join(' '));
    out.push(...leaves(sub, p));
  }
  return out;
}

function oneDocument(r: RunResult): unknown {
  // JSON.parse takes exactly one value: a second document or trailing text is a syntax error.
  return JSON.parse(r.stdout);
}

describe('--json on every command', () => {
  let home: string;
  let cleanup: () => void;
  let commands: string[];
  let incident: string;

  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    const { buildProgram } = await import(join(ROOT, 'dist/cli/program.js'));
    const { Context } = await import(join(ROOT, 'dist/context.js'));
    commands = leaves((await buildProgram(new Context())).program);
    const r = ir(home, ['declare', '-t', 'checkout errors', '-s', 'SEV-3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    incident = (JSON.parse(r.stdout) as { id: string }).id;
    writeFileSync(join(home, 'marker'), '');
  });
  afterAll(() => cleanup());

  it('ir --version --json prints {"version": …}', () => {
    const r = ir(home, ['--version', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(JSON.parse(ir(home, ['--json', '--version']).stdout)).toEqual({ version: expect.any(String) });
    // Through commander, when other options come with it.
    expect(JSON.parse(ir(home, ['--no-color', '--version', '--json']).stdout)).toEqual({ version: expect.any(String) });
    expect(ir(home, ['--no-color', '--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('walks the whole tree (and knows an argv for each command that needs one)', () => {
    expect(commands).toEqual(expect.arrayContaining(['declare', 'status', 'note', 'runbook', 'runbook show', 'action add', 'evidence collect', 'store sync']));
    expect(commands.length).toBeGreaterThan(25);
  });

  it('every command prints exactly one JSON document with --json', async () => {
    const failures: string[] = [];
    for (const path of commands) {
      const argv = [...path.split(' '), ...(ARGS[path] ?? []).map((a) => a.replace('@HOME', home)), '--json'];
      // Spawned asynchronously: a long run of synchronous spawns would starve vitest's worker RPC.
      const r = await irAsync(home, argv, { env: { IR_INCIDENT: path === 'declare' ? undefined : incident } });
      let doc: unknown;
      try {
        doc = oneDocument(r);
      } catch {
        failures.push(`ir ${argv.join(' ')} → exit ${r.code}, stdout not one JSON document:\n${r.stdout.slice(0, 300)}`);
        continue;
      }
      expect(doc, path).toBeTypeOf('object');
      // A failure still answers in JSON, and then says so.
      if (r.code !== 0) expect(doc, `ir ${argv.join(' ')}: ${r.stdout}`).toHaveProperty('error');
    }
    expect(failures).toEqual([]);
  });

  it('the other forms of a command answer in JSON too', () => {
    const forms = [
      ['status', 'identified', '--note', 'found it'],
      ['timeline', '--verify'],
      ['list', '--all'],
      ['evidence', 'list', '--files'],
      ['postmortem', '--draft', '--out', join(home, 'pm.md')],
      ['runbook', 'list', '--tag', 'redis'],
      ['action', 'list', '--all'],
    ];
    for (const argv of forms) {
      const r = ir(home, [...argv, '--json'], { env: { IR_INCIDENT: incident } });
      expect(() => oneDocument(r), `ir ${argv.join(' ')} --json → exit ${r.code}:\n${r.stdout}`).not.toThrow();
    }
  });

  it('a usage error is a JSON document too', () => {
    const r = ir(home, ['severity', '--json']);
    expect(r.code).toBe(2);
    expect(oneDocument(r)).toEqual({ error: expect.objectContaining({ kind: 'usage' }) });
  });
});
