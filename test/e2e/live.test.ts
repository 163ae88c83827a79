// The live views on the default SQLite store, spawned as a user runs them: `ir timeline --follow`
// prints what another process records as it lands (NDJSON with --json), follows every open incident
// when none is named, and ends with exit 0 on SIGINT/SIGTERM; `ir status --watch` piped prints a
// new board, roles included, each time something changes.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ir, json, tempHome } from '../helpers/cli.js';
import { live, sleep } from '../helpers/live.js';

function ok(r: { code: number; stdout: string; stderr: string }, what: string) {
  expect(r.code, `${what}\n${r.stderr}`).toBe(0);
  return r;
}

function declare(home: string, title: string, severity = 'SEV-2'): string {
  return json<{ id: string }>(ok(ir(home, ['declare', '--title', title, '--severity', severity, '--no-input', '--json']), 'declare')).id;
}

describe('live views on SQLite', () => {
  let home: string;
  let cleanup: () => void;
  const running: ReturnType<typeof live>[] = [];
  beforeEach(() => ({ home, cleanup } = tempHome()));
  afterEach(async () => {
    for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    cleanup();
  });

  it('timeline --follow --json: the timeline, then a note from another process, one JSON event per line; SIGINT exits 0', async () => {
    const id = declare(home, 'Checkout down');
    ok(ir(home, ['note', 'before following']), 'note');
    const follower = live(home, ['timeline', '--follow', '--json']);
    running.push(follower);
    await follower.waitFor(/before following/);

    ok(ir(home, ['note', 'rolled back api to v2.14.1'], { env: { IR_USER: 'bob' } }), 'bob note');
    ok(ir(home, ['assign', 'scribe', 'carol']), 'assign');
    await follower.waitFor(/scribe is now carol/);
    follower.child.kill('SIGINT');
    expect(await follower.exited).toEqual({ code: 0, signal: null });

    const lines = follower.stdout.trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { incident: string; seq: number; type: string; actor: string; data: Record<string, unknown>; summary: string; hash: string });
    expect(events.map((e) => [e.type, e.actor, e.summary])).toEqual([
      ['incident.declared', 'tester', 'Declared SEV-2: Checkout down'],
      ['note.added', 'tester', 'Note: before following'],
      ['note.added', 'bob', 'Note: rolled back api to v2.14.1'],
      ['incident.role_assigned', 'tester', 'scribe is now carol'],
    ]);
    for (const e of events) expect(e.incident).toBe(id);
    // The same events, hashes included, as `ir timeline --json` holds them: nothing skipped or repeated.
    const timeline = json<{ events: { seq: number; hash: string }[] }>(ir(home, ['timeline', '--json'])).events;
    expect(events.map((e) => [e.seq, e.hash])).toEqual(timeline.map((e) => [e.seq, e.hash]));
    expect(follower.stderr).toBe('');
  });

  it('timeline --follow (human) prints what `ir timeline` prints, then each new event in its columns', async () => {
    declare(home, 'Checkout down');
    const before = ok(ir(home, ['timeline']), 'timeline').stdout;
    const follower = live(home, ['timeline', '-f']);
    running.push(follower);
    await follower.waitFor(/Declared SEV-2/);
    expect(follower.stdout).toBe(before);
    ok(ir(home, ['note', 'error rate falling'], { env: { IR_USER: 'bob' } }), 'note');
    await follower.waitFor(/error rate falling/);
    follower.child.kill('SIGTERM');
    expect(await follower.exited).toEqual({ code: 0, signal: null });
    const after = ok(ir(home, ['timeline']), 'timeline').stdout;
    expect(follower.stdout).toBe(after);
  });

  it("timeline --follow whose reader goes away (a closed pipe) ends quietly with exit 0 at the next event", async () => {
    declare(home, 'Checkout down');
    const follower = live(home, ['timeline', '--follow', '--json']);
    running.push(follower);
    await follower.waitFor(/Checkout down/);
    // As `ir timeline -f | head -1` does once head has its line.
    follower.child.stdout.destroy();
    ok(ir(home, ['note', 'nobody reads this']), 'note');
    expect(await Promise.race([follower.exited, sleep(10_000).then(() => 'still running')])).toEqual({ code: 0, signal: null });
    expect(follower.stderr).toBe('');
  });

  it('several open and none named: follows every incident, each line led by its id, new incidents included', async () => {
    const a = declare(home, 'Checkout down');
    const b = declare(home, 'Search slow', 'SEV-3');
    const follower = live(home, ['timeline', '--follow']);
    running.push(follower);
    await follower.waitFor(/Search slow/);
    expect(follower.stdout.split('\n')[0]).toMatch(/^INCIDENT\s+TIME \(UTC\)\s+ACTOR\s+EVENT$/);
    ok(ir(home, ['note', '--incident', a, 'checkout note']), 'note a');
    const c = declare(home, 'Declared while following', 'SEV-3');
    ok(ir(home, ['note', '--incident', b, 'search note']), 'note b');
    await follower.waitFor(/search note/);
    follower.child.kill('SIGINT');
    expect((await follower.exited).code).toBe(0);
    const rows = follower.stdout.trimEnd().split('\n').slice(1);
    expect(rows.map((r) => r.split(/\s{2,}/)[0])).toEqual([a, b, a, c, b]);
    expect(rows[2]).toMatch(/Note: checkout note$/);
    expect(rows[3]).toMatch(/Declared SEV-3: Declared while following$/);
  });

  it('--follow with --verify or --head is a usage error: one line, exit 2', () => {
    declare(home, 'Checkout down');
    for (const extra of [['--verify'], ['--head']]) {
      const r = ir(home, ['timeline', '--follow', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^ir: --follow .*${extra[0]}`))]);
      expect(r.stdout).toBe('');
    }
    const r = ir(home, ['status', 'identified', '--watch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ir: --watch shows the board/);
  });

  it('status --watch piped: a new board (no ANSI) each time something changes, roles shown; SIGINT exits 0', async () => {
    const id = declare(home, 'Checkout down');
    const watcher = live(home, ['status', '--watch'], { NO_COLOR: undefined, FORCE_COLOR: undefined });
    running.push(watcher);
    await watcher.waitFor(/IC - · scribe - · comms -/);
    ok(ir(home, ['assign', 'commander', 'dana'], { env: { IR_USER: 'bob' } }), 'assign');
    await watcher.waitFor(/IC dana · scribe - · comms -/);
    ok(ir(home, ['ack'], { env: { IR_USER: 'bob' } }), 'ack');
    await watcher.waitFor(/respond met/);
    watcher.child.kill('SIGINT');
    expect((await watcher.exited).code).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(watcher.stdout).not.toMatch(/\u001b/);
    const boards = watcher.stdout.split(/\n(?=on change · )/);
    expect(boards.length).toBe(3);
    for (const board of boards) {
      expect(board).toMatch(new RegExp(`^on change · ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ir\\.db · \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\n\\n${id}  SEV-2  investigating`));
      for (const line of board.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    }
  });

  it('status --watch --json: one JSON document per line, one line per change', async () => {
    const id = declare(home, 'Checkout down');
    const watcher = live(home, ['status', '--watch', '--json']);
    running.push(watcher);
    await watcher.waitFor(/\n/);
    ok(ir(home, ['assign', 'comms', 'erin']), 'assign');
    await watcher.waitFor(/"comms":"erin"/);
    watcher.child.kill('SIGINT');
    expect((await watcher.exited).code).toBe(0);
    const docs = watcher.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { at: string; incidents: { id: string; roles: Record<string, string> }[] });
    expect(docs.map((d) => d.incidents.map((i) => [i.id, i.roles.comms ?? null]))).toEqual([[[id, null]], [[id, 'erin']]]);
  });
});
