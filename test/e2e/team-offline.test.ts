// The team store when the network is the incident: a real PostgreSQL stopped mid-incident and started
// again, two homes ("machines") pointing at it, the real `ir` binary. Writes made while it is down land
// in the outbox and exit 0; the next command that reaches it delivers them in order, at their own time;
// what no longer applies is recorded as not applied, never dropped; a changed outbox is refused.

import { createServer, type Server } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, sqlite, tempHome } from '../helpers/cli.js';
import { live } from '../helpers/live.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

interface EventJson {
  seq: number;
  at: string;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  summary: string;
  recorded_at?: string;
  waiting?: boolean;
  origin?: string;
  hash: string;
}

describe('team store offline: PostgreSQL stopped mid-incident', () => {
  let pg: PostgresServer;
  let url: string;
  const homes: { home: string; cleanup: () => void }[] = [];
  let db = 0;

  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const h of homes) h.cleanup();
    await pg?.stop();
  });

  /** A fresh database per test, and a responder (home) on it. */
  function team(): { url: string; as: (name: string) => (args: string[]) => ReturnType<typeof ir> } {
    const name = `offline_${++db}`;
    psql(pg, 'postgres', `CREATE DATABASE ${name}`);
    const u = `postgres://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/${name}`;
    url = u;
    return {
      url: u,
      as: (person: string) => {
        const h = tempHome(`ir-team-${person}-`);
        homes.push(h);
        return (args: string[]) => ir(h.home, args, { env: { IR_STORE: u, IR_USER: person, IR_STORE_TIMEOUT: '2' } });
      },
    };
  }

  it('ir note exits 0 with one warning line while it is down; the next command delivers it; verify passes; the postmortem shows it at its time', async () => {
    const t = team();
    const alice = t.as('alice');
    const bob = t.as('bob');
    const inc = json<{ id: string }>(alice(['declare', '--json', '-t', 'checkout down', '-s', 'SEV-2']));
    expect(alice(['note', 'before the outage']).code).toBe(0);
    // bob reads once, so his machine has something to show if the network goes.
    expect(bob(['timeline', inc.id]).code).toBe(0);
    const onlineHashes = json<{ events: EventJson[] }>(alice(['timeline', '--json', inc.id])).events.map((e) => e.hash);
    expect(onlineHashes).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/), expect.stringMatching(/^[0-9a-f]{64}$/)]);

    pg.halt();
    try {
      const noted = alice(['note', '--json', 'switched traffic to eu-west while the db was unreachable']);
      expect(noted.code, noted.stderr).toBe(0);
      const warning = noted.stderr.trim().split('\n');
      expect(warning).toHaveLength(1);
      expect(warning[0]).toMatch(/^team store unreachable: recorded locally, 1 waiting/);
      expect(warning[0]).not.toContain(pg.password);
      const writtenAt = json<{ events: EventJson[] }>(noted).events[0].at;

      const second = alice(['ack']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/recorded locally, 2 waiting/);
      const st = alice(['store', 'status']);
      expect(st.code).toBe(1);
      expect(st.stdout).toMatch(/reachable: no[\s\S]*outbox: 2 waiting/);

      // Reading offline: what this machine last saw plus its outbox, marked as such.
      const shown = alice(['timeline', '--json', inc.id]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stderr).toMatch(/team store unreachable .*showing what this machine last saw as of/);
      const offline = json<{ events: EventJson[] }>(shown).events;
      expect(offline.map((e) => e.type)).toEqual(['incident.declared', 'note.added', 'note.added', 'incident.acknowledged']);
      expect(offline.slice(2).every((e) => e.waiting)).toBe(true);
      expect(alice(['status']).stdout).toContain(inc.id);
      // bob's machine shows what it last saw, without alice's outbox.
      const bobView = bob(['timeline', '--json', inc.id]);
      expect(bobView.code).toBe(0);
      expect(json<{ events: EventJson[] }>(bobView).events).toHaveLength(2);
      // His copy came from a printed timeline, which reads no hashes for itself: the copy has them all.
      expect(json<{ events: EventJson[] }>(bobView).events.map((e) => e.hash)).toEqual(onlineHashes);
      // Only the server can prove the chain: verify says so and fails, it does not pretend.
      const verify = alice(['timeline', '--verify']);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toMatch(/team store unreachable.*cannot verify/);

      await pg.restart();
      const next = alice(['status']);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/delivered 2 entries recorded offline/);

      // bob, on the other machine, now sees alice's offline note at the time she wrote it.
      const events = json<{ events: EventJson[] }>(bob(['timeline', '--json', inc.id])).events;
      const note = events.find((e) => e.type === 'note.added' && String(e.data.text).startsWith('switched traffic'));
      expect(note).toBeDefined();
      expect(note!.at).toBe(writtenAt);
      expect(note!.actor).toBe('alice');
      expect(note!.recorded_at! > note!.at).toBe(true);
      expect(note!.summary).toMatch(/written offline, delivered/);
      expect(events.find((e) => e.type === 'incident.acknowledged')).toMatchObject({ actor: 'alice', recorded_at: expect.any(String) });
      // Delivered once, in order, into one chain that verifies.
      expect(events.filter((e) => e.type === 'note.added')).toHaveLength(2);
      for (const who of [alice, bob]) {
        const v = who(['timeline', '--verify', '--json']);
        expect(v.code, v.stderr).toBe(0);
      }
      const pm = bob(['postmortem', inc.id, '--draft']);
      expect(pm.code, pm.stderr).toBe(0);
      const line = pm.stdout.split('\n').find((l) => l.includes('switched traffic to eu-west'));
      expect(line).toBeDefined();
      expect(line).toContain(writtenAt.slice(0, 19).replace('T', ' '));
      expect(pm.stdout).not.toContain(pg.password);
      // Nothing waits any more, and a second sync delivers nothing twice.
      const sync = alice(['store', 'sync', '--json']);
      expect(sync.code, sync.stderr).toBe(0);
      expect(json(sync)).toMatchObject({ waiting: 0, delivered: 0 });
      expect(json<{ events: EventJson[] }>(bob(['timeline', '--json', inc.id])).events).toHaveLength(events.length);
    } finally {
      await pg.restart().catch(() => undefined);
    }
  }, 120_000);

  it('what no longer applies is delivered as a recorded rejection, not dropped; an incident declared offline gets its team id', async () => {
    const t = team();
    const alice = t.as('alice');
    const bob = t.as('bob');
    const inc = json<{ id: string }>(alice(['declare', '--json', '-t', 'queue backlog', '-s', 'SEV-3']));
    expect(alice(['status']).code).toBe(0);

    pg.halt();
    let provisional: string;
    try {
      expect(alice(['ack', '--incident', inc.id]).code).toBe(0);
      expect(alice(['resolve', '--incident', inc.id, '--summary', 'drained the queue']).code).toBe(0);
      const declared = alice(['declare', '--json', '-t', 'second problem found offline', '-s', 'SEV-3']);
      expect(declared.code, declared.stderr).toBe(0);
      provisional = json<{ id: string }>(declared).id;
      expect(provisional).toMatch(/^INC-LOCAL-/);
      expect(alice(['note', '--incident', provisional, 'seen from the bastion']).code).toBe(0);
    } finally {
      await pg.restart();
    }
    // Meanwhile bob, online, acknowledged and resolved it himself.
    expect(bob(['ack', '--incident', inc.id]).code).toBe(0);
    expect(bob(['resolve', '--incident', inc.id, '--summary', 'bob drained it']).code).toBe(0);

    const sync = alice(['store', 'sync', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    const report = json<{ delivered: number; rejected: { reason: string }[]; mapped: { provisional: string; team: string }[]; waiting: number }>(sync);
    expect(report.waiting).toBe(0);
    expect(report.delivered).toBe(4);
    expect(report.rejected.map((r) => r.reason).join('\n')).toMatch(/already acknowledged by bob[\s\S]*already resolved/);
    expect(sync.stderr).toMatch(new RegExp(`${provisional} is now INC-\\d{8}-\\d{3}`));

    const events = json<{ events: EventJson[] }>(bob(['timeline', '--json', inc.id])).events;
    const rejected = events.filter((e) => e.type === 'sync.rejected');
    expect(rejected.map((e) => (e.data.original as { type: string }).type)).toEqual(['incident.acknowledged', 'incident.resolved']);
    expect(rejected.every((e) => e.actor === 'alice')).toBe(true);
    expect(rejected[1].summary).toMatch(/Not applied .*Resolved: drained the queue — .* already resolved/);
    expect(json(bob(['show', inc.id, '--json']))).toMatchObject({ state: 'resolved', summary: 'bob drained it' });

    // The incident declared offline is a team incident now, with its note, and the mapping is recorded.
    const mapped = report.mapped.find((m) => m.provisional === provisional)!.team;
    const list = json<{ incidents: { id: string; title: string }[] }>(bob(['list', '--json']));
    expect(list.incidents.find((i) => i.id === mapped)?.title).toBe('second problem found offline');
    const second = json<{ events: EventJson[] }>(bob(['timeline', '--json', mapped])).events;
    expect(second[0].data.provisional_id).toBe(provisional);
    expect(second.map((e) => e.type)).toEqual(['incident.declared', 'note.added']);
    // alice may go on using the provisional id she was given.
    expect(alice(['note', '--incident', provisional, 'still here']).code).toBe(0);
    expect(json<{ events: EventJson[] }>(bob(['timeline', '--json', mapped])).events).toHaveLength(3);
    expect(alice(['timeline', '--verify']).code).toBe(0);
  }, 120_000);

  it('a runbook run while it is down runs, saves its output, and reaches the team with its run and steps', async () => {
    const t = team();
    const alice = t.as('alice');
    const bob = t.as('bob');
    const runbooks = mkdtempSync(join(tmpdir(), 'ir-team-rb-'));
    writeFileSync(
      join(runbooks, 'failover.yaml'),
      ['id: failover', 'title: Fail over to the standby', 'phases:', '  - id: now', '    title: Now', '    steps:', '      - id: check', '        title: Check', '        run: echo standby-ready', '        expect:', '          stdout: standby-ready', '      - id: switch', '        title: Switch', '        run: echo switched', ''].join('\n'),
    );
    const inc = json<{ id: string }>(alice(['declare', '--json', '-t', 'primary lost', '-s', 'SEV-1'])).id;
    pg.halt();
    let runId: string;
    try {
      const r = alice(['runbook', 'failover', '--yes', '--runbooks', runbooks, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/team store unreachable: recorded locally, \d+ waiting/);
      const doc = json<{ status: string; run_id: string }>(r);
      expect(doc.status).toBe('completed');
      runId = doc.run_id;
    } finally {
      await pg.restart();
      rmSync(runbooks, { recursive: true, force: true });
    }
    expect(alice(['store', 'sync']).code).toBe(0);
    const events = json<{ events: EventJson[] }>(bob(['timeline', '--json', inc])).events;
    const steps = events.filter((e) => e.type === 'runbook.step');
    expect(steps.map((e) => [e.data.step, e.data.outcome, e.data.run_id])).toEqual([
      ['check', 'ok', runId],
      ['switch', 'ok', runId],
    ]);
    expect(events.find((e) => e.type === 'runbook.finished')).toMatchObject({ data: { status: 'completed' } });
    expect(psql(pg, `offline_${db}`, `SELECT status FROM runbook_runs WHERE id = '${runId}'`).trim()).toBe('completed');
    expect(bob(['timeline', '--verify']).code).toBe(0);
  }, 60_000);

  it('ir timeline --follow started while it is down shows the last-seen copy, then follows the server once it is back', async () => {
    const t = team();
    const alice = t.as('alice');
    const bob = t.as('bob');
    const inc = json<{ id: string }>(alice(['declare', '--json', '-t', 'follow through the outage', '-s', 'SEV-2'])).id;
    const aliceHome = homes[homes.length - 2].home;
    pg.halt();
    let follower: ReturnType<typeof live> | undefined;
    try {
      follower = live(aliceHome, ['timeline', '--follow', '--json', inc], { IR_STORE: t.url, IR_USER: 'alice', IR_STORE_TIMEOUT: '2' });
      await follower.waitFor(/"incident\.declared"/, 20_000);
      expect(alice(['note', '--incident', inc, 'written by the follower-side offline']).code).toBe(0);
    } finally {
      await pg.restart();
    }
    expect(bob(['note', '--incident', inc, 'bob after the restart']).code).toBe(0);
    await follower.waitFor(/bob after the restart/, 30_000);
    follower.child.kill('SIGINT');
    expect((await follower.exited).code).toBe(0);
    expect(follower.stderr).not.toContain(pg.password);
  }, 90_000);

  it('a changed outbox is refused, naming the entry, and nothing of it is delivered', async () => {
    const t = team();
    const homeDirs = () => homes.map((h) => h.home);
    const alice = t.as('alice');
    const aliceHome = homeDirs()[homeDirs().length - 1];
    const inc = json<{ id: string }>(alice(['declare', '--json', '-t', 'tamper', '-s', 'SEV-3']));
    pg.halt();
    try {
      expect(alice(['note', 'one']).code).toBe(0);
      expect(alice(['note', 'two']).code).toBe(0);
    } finally {
      await pg.restart();
    }
    const dir = join(aliceHome, 'team');
    const outbox = join(dir, readdirSync(dir)[0], 'outbox.db');
    sqlite(outbox, `UPDATE entries SET body = replace(body, 'two', 'TWO (edited)') WHERE n = 2`);
    const r = alice(['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the outbox was changed: .*outbox\.db entry 2 does not match its hash/);
    const count = psql(pg, `offline_${db}`, `SELECT count(*) FROM events WHERE incident_id = '${inc.id}'`).trim();
    expect(count).toBe('1');
  }, 60_000);

  it('a server that accepts the connection and never answers is unreachable after the connect timeout', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const h = tempHome('ir-team-silent-');
    homes.push(h);
    try {
      const env = { IR_STORE: `postgres://u:secret-pw@127.0.0.1:${port}/ir?connect_timeout=1`, IR_USER: 'alice' };
      const declared = ir(h.home, ['declare', '--json', '-t', 'silent server', '-s', 'SEV-3'], { env });
      expect(declared.code, declared.stderr).toBe(0);
      expect(declared.stderr).toMatch(/team store unreachable: recorded locally, 1 waiting/);
      expect(declared.stderr + declared.stdout).not.toContain('secret-pw');
      const st = ir(h.home, ['store', 'sync'], { env });
      expect(st.code).toBe(1);
      expect(st.stderr).toMatch(/1 still waiting/);
    } finally {
      silent.close();
    }
    expect(url).toBeTruthy();
  }, 60_000);
});
