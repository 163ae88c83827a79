// kill -9 in the middle of a collection: the database still opens, the timeline verifies, what
// finished before the kill is recorded, and `ir evidence list` shows the collection incomplete.
// The file the killed collector was writing was recorded when it was opened: `evidence verify`
// reports it as partial (with its size and hash now), while a file nobody recorded is unexpected.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ListJson {
  collections: { id: string; state: string; files: number; unfinished: string[]; partial: string[]; file_list: { collector: string; file: string | null; status: string; bytes: number; sha256: string | null }[] }[];
}

describe('kill -9 during evidence collect', () => {
  let home: string;
  let cleanup: () => void;
  let team: string;
  let pidFile: string;

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    team = mkdtempSync(join(tmpdir(), 'ir-team-'));
    pidFile = join(team, 'hang.pid');
    writeFileSync(
      join(team, 'evidence.yaml'),
      [
        'collectors:',
        '  - name: quick',
        '    command: [echo, finished before the kill]',
        '  - name: hang',
        '    timeout: 120s',
        '    shell: true',
        `    command: "echo $$ > '${pidFile}'; echo started; exec sleep 60"`,
        '',
      ].join('\n'),
    );
  });

  afterAll(() => {
    // The hung command ran in its own process group, which outlives a SIGKILLed ir: end it.
    if (existsSync(pidFile)) {
      try {
        process.kill(-Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(team, { recursive: true, force: true });
    cleanup();
  });

  it('leaves a store that opens and verifies, the collection incomplete, its killed file partial (not unexpected) in verify, a planted file unexpected', async () => {
    const incident = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'kill test', '-s', 'SEV-2'])).id;
    const child = spawn(process.execPath, [BIN, '--runbooks', team, 'evidence', 'collect', '--concurrency', '2'], { env: irEnv(home, { KUBECONFIG: undefined, HOME: home }), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((r) => child.once('exit', r));

    // Wait until the collection has started and `quick` has been recorded, with `hang` still running.
    const deadline = Date.now() + 30_000;
    let list: ListJson | undefined;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`collection never got going: ${stderr}`);
      const r = ir(home, ['evidence', 'list', '--json']);
      list = r.code === 0 ? json<ListJson>(r) : undefined;
      const c = list?.collections[0];
      const hangFile = c ? join(home, 'incidents', incident, 'evidence', c.id, 'hang.txt') : '';
      // `hang` has written its first line: there is a partial file on disk when the kill lands.
      if (c && c.file_list.some((f) => f.collector === 'quick') && existsSync(pidFile) && existsSync(hangFile) && statSync(hangFile).size > 0) break;
      await sleep(100);
    }
    expect(list!.collections[0].state, JSON.stringify(list)).toBe('running');

    child.kill('SIGKILL');
    await exited;

    const db = new Database(join(home, 'ir.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const verify = ir(home, ['timeline', '--verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const after = json<ListJson>(ir(home, ['evidence', 'list', '--json']));
    expect(after.collections).toHaveLength(1);
    const c = after.collections[0];
    expect(c.state).toBe('incomplete');
    // No kubeconfig here: the Kubernetes collectors were recorded as skipped before the kill.
    const hangFile = `evidence/${c.id}/hang.txt`;
    expect(c.file_list.filter((f) => f.status !== 'skipped')).toEqual([
      expect.objectContaining({ collector: 'quick', status: 'ok', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      expect.objectContaining({ collector: 'hang', file: hangFile, status: 'partial', bytes: 'started\n'.length, sha256: null }),
    ]);
    expect(c.unfinished).toEqual(['hang']);
    expect(c.partial).toEqual([hangFile]);
    const human = ir(home, ['evidence', 'list', '--files']);
    expect(human.stdout).toMatch(new RegExp(`${c.id}\\s+incomplete`));
    expect(human.stdout).toMatch(/never finished: hang/);
    expect(human.stdout).toMatch(new RegExp(`partial\\s+8 B\\s+-\\s+${hangFile.replace(/[.]/g, '\\.')}  \\(never sealed\\)`));

    const events = json<{ events: { type: string }[] }>(ir(home, ['timeline', incident, '--json'])).events.map((e) => e.type);
    expect(events).toContain('evidence.collection_started');
    expect(events).not.toContain('evidence.collected');

    // verify: the killed collector's file is partial, with what is on disk now — not unexpected.
    const onDisk = readFileSync(join(home, 'incidents', incident, hangFile));
    const verified = ir(home, ['evidence', 'verify', '--json']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(json(verified)).toMatchObject({
      ok: true,
      problems: [],
      partial: [{ file: hangFile, collection: c.id, collector: 'hang', bytes: onDisk.length, sha256: createHash('sha256').update(onDisk).digest('hex') }],
    });
    const said = ir(home, ['evidence', 'verify']);
    expect(said.stdout).toMatch(new RegExp(`^PARTIAL\\s+${hangFile.replace(/[.]/g, '\\.')}`, 'm'));
    expect(said.stdout).not.toMatch(/UNEXPECTED/);

    // A file nobody recorded, in the same directory, is still unexpected (and fails the check).
    writeFileSync(join(home, 'incidents', incident, 'evidence', c.id, 'planted.txt'), 'not collected by ir\n');
    const planted = ir(home, ['evidence', 'verify', '--json']);
    expect(planted.code).toBe(1);
    expect(json(planted)).toMatchObject({ ok: false, problems: [{ file: `evidence/${c.id}/planted.txt`, problem: 'unexpected' }], partial: [{ file: hangFile }] });
    const timeline = json<{ events: { type: string; data: Record<string, unknown> }[] }>(ir(home, ['timeline', incident, '--json'])).events;
    // The partial file's hash as first seen is now under the hash chain.
    expect(timeline.filter((e) => e.type === 'evidence.verified')[0].data.partial).toEqual([{ file: hangFile, bytes: onDisk.length, sha256: createHash('sha256').update(onDisk).digest('hex') }]);
  });
});
