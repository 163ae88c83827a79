// The team's live views in real terminals on a real PostgreSQL: alice (one home) follows the
// timeline in tmux while bob (another home, the same team store) writes a note, which appears on
// alice's screen (the latency is measured and printed, not asserted: speed belongs in bench/);
// alice's `status --watch` at 80 columns shows the role bob assigns and the acknowledgement, and
// Ctrl-C gives her terminal back as it was, exit 0. Also: a follower whose LISTEN connection the
// server ends says so, reconnects, and prints what landed meanwhile.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, tempHome } from '../helpers/cli.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';
import { live } from '../helpers/live.js';
import { haveTmux, TmuxSession } from '../helpers/tty.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live views in a terminal, two homes on one PostgreSQL', () => {
  it('has tmux', () => expect(haveTmux()).toBe(true));

  let server: PostgresServer;
  let url = '';
  let alice: { home: string; cleanup: () => void };
  let bob: { home: string; cleanup: () => void };
  let session: TmuxSession | undefined;
  let databases = 0;
  const as = (who: 'alice' | 'bob') => ({ env: { IR_STORE: url, IR_USER: who } });

  beforeAll(async () => {
    server = await startPostgres();
    alice = tempHome('ir-alice-');
    bob = tempHome('ir-bob-');
  }, 60_000);
  afterAll(async () => {
    session?.kill();
    await server?.stop();
    alice?.cleanup();
    bob?.cleanup();
  });

  /** A fresh team database for a test, and one incident in it declared by alice. */
  function team(): string {
    const db = `ir_live_${++databases}`;
    psql(server, 'postgres', `CREATE DATABASE ${db};`);
    url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${db}`;
    const r = ir(alice.home, ['declare', '--title', 'Checkout down', '--severity', 'SEV-2', '--no-input', '--json'], as('alice'));
    expect(r.code, r.stderr).toBe(0);
    return json<{ id: string }>(r).id;
  }

  /** Until alice's view holds its LISTEN connection: from then on a note is pushed, not found late. */
  async function listening(db: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (psql(server, db, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ir_events';`).trim() !== '0') return;
      await sleep(50);
    }
    throw new Error(`alice's view never listened; screen:\n${session?.screen()}`);
  }

  it("bob's note from another home appears on alice's `ir timeline --follow` screen", async () => {
    const id = team();
    session = new TmuxSession(alice.home, ['timeline', '--follow'], as('alice').env);
    await session.waitFor(/Declared SEV-2: Checkout down/);
    await listening(`ir_live_${databases}`);

    const bobStarted = Date.now();
    const r = ir(bob.home, ['note', 'rolled back api to v2.14.1'], as('bob'));
    const bobExited = Date.now();
    expect(r.code, r.stderr).toBe(0);
    // Polled every 50 ms; the ceiling only turns a hang into a failure.
    let latency: number | undefined;
    while (Date.now() - bobExited < 10_000) {
      if (/bob\s+Note: rolled back api to v2\.14\.1/.test(session.screen())) {
        latency = Date.now() - bobExited;
        break;
      }
      await sleep(50);
    }
    console.log(
      `[live] bob's note on alice's screen ${latency ?? 'never'} ms after bob's ir exited (${latency === undefined ? '-' : latency + bobExited - bobStarted} ms after it started; issue #10 asks for within 1000 ms)`,
    );
    expect(latency, `the note never appeared; screen:\n${session.screen()}`).toBeDefined();
    const screen = session.screen();
    expect(screen).toMatch(new RegExp(`following ${id}; Ctrl-C or q to stop`));
    expect(screen).not.toContain(server.password);

    session.keys('C-c');
    expect(await session.exitCode()).toBe(0);
  });

  it("alice's `ir status --watch` at 80 columns shows the role bob assigns and his ack; Ctrl-C restores the screen, exit 0", async () => {
    const id = team();
    session?.kill();
    session = new TmuxSession(alice.home, ['status', '--watch'], as('alice').env);
    session.resize(80, 24);
    await session.waitFor(/IC - · scribe - · comms -/);
    await listening(`ir_live_${databases}`);

    expect(ir(bob.home, ['assign', 'scribe', 'bob'], as('bob')).code).toBe(0);
    expect(ir(bob.home, ['assign', 'commander', 'alice'], as('bob')).code).toBe(0);
    await session.waitFor(/IC alice · scribe bob · comms -/);
    expect(ir(bob.home, ['ack'], as('bob')).code).toBe(0);
    const board = await session.waitFor(/respond met · resolve \S+ left · next update \S+ left/);
    const lines = board.split('\n');
    // The header like watch(1), the store's password masked; each line whole within 80 columns.
    // (The URL is elided in the middle to keep the time in view at 80 columns.)
    expect(lines[0]).toMatch(/^every 1s · postgres:\/\/postgres:\*\*\*\S*…\S*\/ir_live_\d+ · \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(board).not.toContain(server.password);
    expect(lines.find((l) => l.startsWith(id))).toMatch(new RegExp(`^${id}  SEV-2  investigating\\s+\\S+  Checkout down$`));
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);

    // The clocks tick without any write: the header's time moves on by itself (the ceiling only ends a hang).
    const ticked = Date.now() + 10_000;
    while (session.screen().split('\n')[0] === lines[0] && Date.now() < ticked) await sleep(100);
    expect(session.screen().split('\n')[0]).not.toBe(lines[0]);

    session.keys('C-c');
    expect(await session.exitCode()).toBe(0);
    // Back from the alternate screen: the board is gone, the terminal as it was before.
    expect(session.screen()).not.toMatch(/every 1s|IC alice/);
  });

  it('a follower whose LISTEN connection is cut says so on stderr (password masked), reconnects and prints what landed meanwhile', async () => {
    const id = team();
    const db = `ir_live_${databases}`;
    const follower = live(alice.home, ['timeline', '--follow', '--json'], as('alice').env);
    try {
      await follower.waitFor(/Checkout down/);
      await listening(db);
      expect(psql(server, db, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ir_events';`).trim()).toBe('1');
      expect(ir(bob.home, ['note', 'written while alice was cut off'], as('bob')).code).toBe(0);
      await follower.waitFor(/written while alice was cut off/);
      await follower.waitFor(/reconnected/, 10_000, 'stderr');
      expect(follower.stderr).toMatch(/^ir: lost the connection to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/ir_live_\d+ \(.+\); reconnecting$/m);
      expect(follower.stderr).not.toContain(server.password);
      // And it is listening again: the next note is pushed to it.
      await listening(db);
      expect(ir(bob.home, ['note', 'after the reconnect'], as('bob')).code).toBe(0);
      await follower.waitFor(/after the reconnect/);
      follower.child.kill('SIGINT');
      expect(await follower.exited).toEqual({ code: 0, signal: null });
      const events = follower.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { incident: string; seq: number });
      expect(events.map((e) => e.incident)).toEqual([id, id, id]);
      expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    } finally {
      if (follower.child.exitCode === null) follower.child.kill('SIGKILL');
    }
  });
});
