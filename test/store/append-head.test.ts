// The SQLite append's fast path and the row head it may leave behind: a note on a connection that was
// the last to write inserts the event alone, and nothing about that lets an edited row steer a
// decision or hide from verify, or lets another writer's events be forked around.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident, NewEvent } from '../../src/core/incident.js';
import { eventHash, GENESIS_HASH } from '../../src/store/chain.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { ir, ROOT, tempHome } from '../helpers/cli.js';

const AT = new Date('2026-11-25T03:00:00.000Z');
const later = (s: number) => new Date(AT.getTime() + s * 1000);
const note = (text: string): NewEvent => ({ type: 'note.added', data: { text } });

const homes: (() => void)[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of homes.splice(0)) c();
});

function setup(): { home: string; path: string; store: SqliteStore } {
  const { home, cleanup } = tempHome('ir-append-head-');
  homes.push(cleanup);
  const path = join(home, 'ir.db');
  const store = SqliteStore.open(path);
  stores.push(store);
  return { home, path, store };
}

/** Reads (or, with `sql`, writes) the file on a connection of its own, as another process would. */
function raw<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const row = (path: string, id: string) =>
  raw(path, (db) => db.prepare('SELECT head_seq, head_hash, state, severity, doc FROM incidents WHERE id = ?').get(id) as { head_seq: number; head_hash: string; state: string; severity: string; doc: string });

/** Every event of the incident links to the one before it and hashes to its hash: one chain, no fork. */
function chain(path: string, id: string): { seq: number; hash: string; type: string }[] {
  const rows = raw(path, (db) => db.prepare('SELECT * FROM events WHERE incident_id = ? ORDER BY seq').all(id)) as {
    seq: number; incident_id: string; at: string; type: string; actor: string; data: string; prev_hash: string; hash: string; state_sha256: string | null; origin: string | null; recorded_at: string | null;
  }[];
  let prev = GENESIS_HASH;
  for (const r of rows) {
    expect(r.prev_hash, `event ${r.seq} links to the one before`).toBe(prev);
    expect(eventHash(r.prev_hash, r), `event ${r.seq} hashes to its hash`).toBe(r.hash);
    prev = r.hash;
  }
  return rows.map((r) => ({ seq: r.seq, hash: r.hash, type: r.type }));
}

/** Runs the built ir against the store as a user in another terminal would. */
function foreign(home: string, id: string, args: string[]): void {
  const r = ir(home, args, { env: { IR_INCIDENT: id } });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

describe('SQLite append: the row head and the connection’s own account', () => {
  it('notes on the connection that wrote last leave the incident row as it was; the chain holds and verifies; close() moves the head to the end', async () => {
    const { path, store } = setup();
    const { incident, event } = await store.declare({ title: 'db down', severity: 'SEV-2' }, AT, 'alice');
    const before = row(path, incident.id);
    expect(before.head_seq).toBe(event.seq);
    for (let i = 0; i < 20; i++) await store.append(incident.id, () => note(`n${i}`), later(i + 1), 'alice');
    // The row still says what it said: the notes did not rewrite it (one page fewer per commit).
    expect(row(path, incident.id)).toEqual(before);
    const events = chain(path, incident.id);
    expect(events).toHaveLength(21);
    expect(await store.verify(incident.id)).toMatchObject({ ok: true, problems: [] });
    // The record the notes left is the one the declaration made, and a reader trusts it.
    expect((await store.getIncident(incident.id))?.severity).toBe('SEV-2');
    // A change of the record moves the head to its event, as always.
    await store.append(incident.id, () => ({ type: 'incident.severity_changed', data: { from: 'SEV-2', to: 'SEV-1', reason: 'worse' } }), later(30), 'alice');
    const moved = row(path, incident.id);
    expect(moved).toMatchObject({ head_seq: events.length + 1, severity: 'SEV-1' });
    await store.append(incident.id, () => note('after'), later(31), 'alice');
    expect(row(path, incident.id).head_seq).toBe(moved.head_seq);
    await store.close();
    const end = chain(path, incident.id).at(-1)!;
    expect(row(path, incident.id)).toMatchObject({ head_seq: end.seq, head_hash: end.hash });
  });

  it('another process appending in between is seen (PRAGMA data_version): the next append links to its event and decides on its change', async () => {
    const { home, path, store } = setup();
    const { incident } = await store.declare({ title: 'api slow', severity: 'SEV-3' }, AT, 'alice');
    await store.append(incident.id, () => note('first'), later(1), 'alice');
    await store.append(incident.id, () => note('second'), later(2), 'alice');
    // ir in another process: a severity change, then a note.
    foreign(home, incident.id, ['severity', 'SEV-1', '--reason', 'checkout failing']);
    foreign(home, incident.id, ['note', 'from the other terminal']);
    const theirs = chain(path, incident.id).at(-1)!;
    let seen: Incident | undefined;
    const { events } = await store.append(incident.id, (i) => ((seen = i), note('third')), later(3), 'alice');
    expect(seen?.severity).toBe('SEV-1');
    expect(events[0]).toMatchObject({ seq: theirs.seq + 1, prevHash: theirs.hash });
    // And again on the fast path, after a read: still one chain.
    await store.append(incident.id, () => note('fourth'), later(4), 'alice');
    const all = chain(path, incident.id);
    expect(all.map((e) => e.type)).toEqual(['incident.declared', 'note.added', 'note.added', 'incident.severity_changed', 'note.added', 'note.added', 'note.added']);
    expect(await store.verify(incident.id)).toMatchObject({ ok: true });
  });

  it('another incident written by another process in between: the store-wide seq is read again, no seq is taken twice', async () => {
    const { home, path, store } = setup();
    const { incident } = await store.declare({ title: 'one', severity: 'SEV-3' }, AT, 'alice');
    await store.append(incident.id, () => note('a'), later(1), 'alice');
    const other = JSON.parse(ir(home, ['declare', '--json', '-t', 'two', '-s', 'SEV-2']).stdout) as { id: string };
    foreign(home, other.id, ['note', 'on the other incident']);
    const top = raw(path, (db) => db.prepare('SELECT max(seq) AS top FROM events').get() as { top: number }).top;
    const { events } = await store.append(incident.id, () => note('b'), later(2), 'alice');
    expect(events[0].seq).toBe(top + 1);
    chain(path, incident.id);
    chain(path, other.id);
  });

  it('another process writes incident A, then this connection writes B (seeing the move) and A again: A links to the other process\'s event, not to its own older one', async () => {
    const { home, path, store } = setup();
    const a = (await store.declare({ title: 'a', severity: 'SEV-3' }, AT, 'alice')).incident;
    const b = (await store.declare({ title: 'b', severity: 'SEV-3' }, AT, 'alice')).incident;
    await store.append(a.id, () => note('a1'), later(1), 'alice');
    await store.append(b.id, () => note('b1'), later(2), 'alice');
    foreign(home, a.id, ['severity', 'SEV-1', '--reason', 'worse']);
    const theirs = chain(path, a.id).at(-1)!;
    // This append reads (the version moved) and brings the connection's tip up to date...
    await store.append(b.id, () => note('b2'), later(3), 'alice');
    // ...but its account of A is from before the other process wrote: it must not be taken as current.
    let seen: Incident | undefined;
    const { events } = await store.append(a.id, (i) => ((seen = i), note('a2')), later(4), 'alice');
    expect(events[0].prevHash).toBe(theirs.hash);
    expect(seen?.severity).toBe('SEV-1');
    chain(path, a.id);
    expect(await store.verify()).toMatchObject({ ok: true });
  });

  it('a record edited after notes that did not move the row is not trusted: reads and decisions fold the events, verify names the field', async () => {
    const { path, store } = setup();
    const { incident } = await store.declare({ title: 'queue backlog', severity: 'SEV-2' }, AT, 'alice');
    for (let i = 0; i < 3; i++) await store.append(incident.id, () => note(`n${i}`), later(i + 1), 'alice');
    const head = row(path, incident.id).head_seq;
    // Behind the store's back: the cached doc and its mirrored columns, consistently, and the head
    // moved to the newest event as if it vouched for them.
    raw(path, (db) => {
      const newest = db.prepare('SELECT seq, hash FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT 1').get(incident.id) as { seq: number; hash: string };
      db.prepare(`UPDATE incidents SET severity = 'SEV-4', state = 'resolved', doc = json_set(json_set(doc, '$.severity', 'SEV-4'), '$.state', 'resolved'), head_seq = ?, head_hash = ? WHERE id = ?`).run(newest.seq, newest.hash, incident.id);
    });
    expect(head).toBeLessThan(row(path, incident.id).head_seq);
    expect(await store.getIncident(incident.id)).toMatchObject({ severity: 'SEV-2', state: 'investigating' });
    expect((await store.listIncidents()).map((i) => [i.id, i.severity])).toEqual([[incident.id, 'SEV-2']]);
    const fresh = SqliteStore.open(path);
    stores.push(fresh);
    expect(await fresh.getIncident(incident.id)).toMatchObject({ severity: 'SEV-2', state: 'investigating' });
    let seen: Incident | undefined;
    await store.append(incident.id, (i) => ((seen = i), note('n3')), later(9), 'alice');
    expect(seen).toMatchObject({ severity: 'SEV-2', state: 'investigating' });
    // The append read (another connection wrote) and rewrote the row from the events.
    expect(row(path, incident.id)).toMatchObject({ severity: 'SEV-2', state: 'investigating' });
    raw(path, (db) => db.prepare(`UPDATE incidents SET doc = json_set(doc, '$.title', 'nothing to see') WHERE id = ?`).run(incident.id));
    expect((await fresh.getIncident(incident.id))?.title).toBe('queue backlog');
    const verdict = await fresh.verify(incident.id);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems[0].reason).toMatch(/^the incident record was changed outside its events: title/);
  });

  it('an edited row cannot steer the connection that wrote last either: its next decision is on the events, not the row', async () => {
    const { path, store } = setup();
    const { incident } = await store.declare({ title: 'disk full', severity: 'SEV-3' }, AT, 'alice');
    await store.append(incident.id, () => note('n'), later(1), 'alice');
    raw(path, (db) => db.prepare(`UPDATE incidents SET state = 'resolved', doc = json_set(doc, '$.state', 'resolved') WHERE id = ?`).run(incident.id));
    // Resolving checks the state inside the lock: an edited "resolved" must not refuse it.
    const resolveOnce = (i: Incident): NewEvent => {
      if (i.state === 'resolved') throw new Error('already resolved');
      return { type: 'incident.resolved', data: { summary: 'freed space', from: i.state } };
    };
    const { incident: after } = await store.append(incident.id, resolveOnce, later(2), 'alice');
    expect(after.state).toBe('resolved');
    expect(await store.verify(incident.id)).toMatchObject({ ok: true });
  });

  it('the record a connection remembers is handed out frozen: a decide or caller that changes it fails loudly, and the next decision is on the events', async () => {
    const { path, store } = setup();
    const { incident } = await store.declare({ title: 'cache', severity: 'SEV-3' }, AT, 'alice');
    const { incident: after } = await store.append(incident.id, () => note('n'), later(1), 'alice');
    expect(() => ((after as { severity: string }).severity = 'SEV-0')).toThrow(TypeError);
    await expect(store.append(incident.id, (i) => ((i as { state: string }).state = 'resolved', note('never')), later(2), 'alice')).rejects.toThrow(TypeError);
    let seen: Incident | undefined;
    await store.append(incident.id, (i) => ((seen = i), note('m')), later(3), 'alice');
    expect(seen).toMatchObject({ severity: 'SEV-3', state: 'investigating' });
    expect(chain(path, incident.id).map((e) => e.type)).toEqual(['incident.declared', 'note.added', 'note.added']);
  });

  it('an append inside an enclosing write is not remembered: after it commits, or rolls back, the next append reads and links to the true newest event', async () => {
    const { path, store } = setup();
    const { incident } = await store.declare({ title: 'evidence', severity: 'SEV-3' }, AT, 'alice');
    await store.append(incident.id, () => note('before'), later(1), 'alice');
    store.db.write(() => store.db.append(incident.id, () => note('inside'), later(2), 'alice'));
    await store.append(incident.id, () => note('after commit'), later(3), 'alice');
    expect(() =>
      store.db.write(() => {
        store.db.append(incident.id, () => note('rolled back'), later(4), 'alice');
        throw new Error('collector failed');
      }),
    ).toThrow('collector failed');
    await store.append(incident.id, () => note('after rollback'), later(5), 'alice');
    const events = raw(path, (db) => db.prepare('SELECT data FROM events WHERE incident_id = ? ORDER BY seq').all(incident.id)) as { data: string }[];
    expect(events.map((e) => JSON.parse(e.data).text)).toEqual([undefined, 'before', 'inside', 'after commit', 'after rollback']);
    chain(path, incident.id);
    expect(await store.verify(incident.id)).toMatchObject({ ok: true });
  });

  it('a process killed before close leaves the head before its notes: verify holds, and still catches the events through the head removed', async () => {
    const { home, path, store } = setup();
    const { incident } = await store.declare({ title: 'killed writer', severity: 'SEV-2' }, AT, 'alice');
    await store.close();
    // A writer that appends notes and dies without closing (kill -9 during a runbook, say).
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(join(ROOT, 'dist', 'store', 'sqlite', 'store.js'))});
      const store = SqliteStore.open(${JSON.stringify(path)});
      for (let i = 0; i < 10; i++) await store.append(${JSON.stringify(incident.id)}, () => ({ type: 'note.added', data: { text: 'n' + i } }), new Date(), 'bob');
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const events = chain(path, incident.id);
    expect(events).toHaveLength(11);
    // Its first append read the store and moved the head; the nine after it did not.
    const { head_seq } = row(path, incident.id);
    expect(head_seq).toBe(events[1].seq);
    const ok = ir(home, ['timeline', incident.id, '--verify', '--json']);
    expect(ok.code).toBe(0);
    // Removing the events from the head on is still the end of the chain cut short.
    raw(path, (db) => db.exec(`DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE incident_id = '${incident.id}' AND seq >= ${head_seq};`));
    const cut = ir(home, ['timeline', incident.id, '--verify', '--json']);
    expect(cut.code).toBe(1);
    expect(JSON.parse(cut.stdout).problems[0].reason).toMatch(/removed from the end/);
  });

  it('a head set back over a change of the record is not taken for the end', async () => {
    const { path, store } = setup();
    const { incident, event } = await store.declare({ title: 'rewound', severity: 'SEV-3' }, AT, 'alice');
    await store.append(incident.id, () => ({ type: 'incident.severity_changed', data: { from: 'SEV-3', to: 'SEV-2', reason: 'more users' } }), later(1), 'alice');
    await store.append(incident.id, () => note('n'), later(2), 'alice');
    raw(path, (db) => db.prepare('UPDATE incidents SET head_seq = ?, head_hash = ? WHERE id = ?').run(event.seq, event.hash, incident.id));
    const verdict = await store.verify(incident.id);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems[0].reason).toMatch(/incident's head is event/);
  });
});

