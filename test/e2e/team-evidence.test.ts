// Evidence on a team store: the files stay on the machine that collected them, their records go to the
// team. bob's "machine" is a UTS namespace named bob-laptop (same disk, another hostname), so
// `ir evidence verify` on alice's machine must say which host holds the files rather than call them
// missing, while on bob's it rehashes them; a collection made while PostgreSQL is down is delivered.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ir, irEnv, json, tempHome, type RunResult } from '../helpers/cli.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const canUnshare = spawnSync('unshare', ['--uts', 'true']).status === 0;

describe.skipIf(!canUnshare)('evidence on the team store, collected on another host', () => {
  let pg: PostgresServer;
  let url: string;
  let runbooks: string;
  const alice = tempHome('ir-ev-alice-');
  const bob = tempHome('ir-ev-bob-');

  beforeAll(async () => {
    pg = await startPostgres();
    psql(pg, 'postgres', 'CREATE DATABASE team_evidence');
    url = `postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/team_evidence`;
    runbooks = mkdtempSync(join(tmpdir(), 'ir-ev-team-'));
    writeFileSync(join(runbooks, 'evidence.yaml'), ['collectors:', '  - name: uname', '    command: [uname, -a]', '  - name: hello', '    command: [echo, collected on bob-laptop]', ''].join('\n'));
  }, 60_000);
  afterAll(async () => {
    alice.cleanup();
    bob.cleanup();
    rmSync(runbooks, { recursive: true, force: true });
    await pg?.stop();
  });

  const env = (who: string) => ({ IR_STORE: url, IR_USER: who, IR_RUNBOOKS: runbooks, IR_STORE_TIMEOUT: '2' });
  const asAlice = (args: string[]) => ir(alice.home, args, { env: env('alice') });
  /** ir as bob on a machine whose hostname is bob-laptop. */
  const asBob = (args: string[]): RunResult => {
    const r = spawnSync('unshare', ['--uts', 'sh', '-c', 'hostname bob-laptop && exec "$0" "$@"', process.execPath, BIN, ...args], {
      env: irEnv(bob.home, env('bob')),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  it('verify on another machine names the host holding the files; on that host it rehashes them, offline collections included', async () => {
    const inc = json<{ id: string }>(asAlice(['declare', '--json', '-t', 'api latency', '-s', 'SEV-2'])).id;
    const first = asBob(['evidence', 'collect', '--only', 'uname,hello', '--incident', inc]);
    expect(first.code, first.stderr).toBe(0);

    const there = asAlice(['evidence', 'verify', '--incident', inc, '--json']);
    expect(there.code, there.stderr).toBe(0);
    const report = json<{ checked: number; problems: unknown[]; elsewhere: { host: string; files: number; collection: string }[] }>(there);
    expect(report.problems).toEqual([]);
    expect(report.checked).toBe(0);
    expect(report.elsewhere).toHaveLength(1);
    expect(report.elsewhere[0]).toMatchObject({ host: 'bob-laptop' });
    expect(report.elsewhere[0].files).toBeGreaterThanOrEqual(2);
    expect(asAlice(['evidence', 'verify', '--incident', inc]).stdout).toMatch(/ELSEWHERE .*on host bob-laptop \(collected by bob@bob-laptop\)[\s\S]*no evidence of INC-\S+ on this machine to rehash; 1 collection held on other hosts \(bob-laptop\)/);

    const own = asBob(['evidence', 'verify', '--incident', inc, '--json']);
    expect(own.code, own.stderr).toBe(0);
    expect(json<{ checked: number; elsewhere: unknown[] }>(own)).toMatchObject({ elsewhere: [] });
    const checkedOnline = json<{ checked: number }>(own).checked;
    expect(checkedOnline).toBeGreaterThanOrEqual(2);

    // The network goes; bob collects again. The records wait in his outbox, the files on his disk.
    pg.halt();
    try {
      const offline = asBob(['evidence', 'collect', '--only', 'uname,hello', '--incident', inc]);
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stderr).toMatch(/team store unreachable: recorded locally, \d+ waiting/);
    } finally {
      await pg.restart();
    }
    const after = asBob(['evidence', 'verify', '--incident', inc, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toMatch(/delivered \d+ entries recorded offline/);
    expect(json<{ checked: number }>(after).checked).toBeGreaterThan(checkedOnline);
    const seen = json<{ elsewhere: { host: string }[] }>(asAlice(['evidence', 'verify', '--incident', inc, '--json'])).elsewhere;
    expect(seen.map((e) => e.host)).toEqual(['bob-laptop', 'bob-laptop']);
    expect(asAlice(['timeline', '--verify']).code).toBe(0);

    // On its own host a deleted file is missing, never "elsewhere".
    const dir = join(bob.home, 'incidents', inc, 'evidence');
    const collection = readdirSync(dir)[0];
    const victim = readdirSync(join(dir, collection), { recursive: true, withFileTypes: true }).find((f) => f.isFile() && f.name.includes('hello'));
    expect(victim).toBeDefined();
    unlinkSync(join(victim!.parentPath, victim!.name));
    const broken = asBob(['evidence', 'verify', '--incident', inc]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/MISSING .*hello/);
  }, 120_000);
});
