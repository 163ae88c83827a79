// The Store contract: every backend must behave the same. Each backend is one entry in `backends`,
// with its way to connect and its way to tamper behind ir's back; PostgreSQL is a real server on loopback.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Incident, NewEvent, TimelineEvent } from '../../src/core/incident.js';
import { eventHash, GENESIS_HASH } from '../../src/store/chain.js';
import { canonicalJson } from '../../src/store/canonical.js';
import { openStore } from '../../src/store/open.js';
import { AlreadyDelivered, MAX_OUTLINE_ACTORS, type Store } from '../../src/store/types.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

/** One store, reachable through as many connections as a test asks for. */
interface Harness {
  /** A new connection (its own Store object) to the same store. */
  connect(): Promise<Store>;
  /** Rewrites one event's data as someone with raw database access would. */
  editEventData(seq: number, data: string): void;
  /** Sets a column of an incident's cached record (state, severity, …) behind the store's back. */
  editRecord(incidentId: string, column: 'state' | 'severity', value: string): void;
  cleanup(): void;
}

interface Backend {
  name: string;
  /** Starts what the backend needs for the whole suite (a server), and stops it. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  create(): Promise<Harness>;
}

function sqliteRaw(path: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

let pg: PostgresServer | undefined;
let databases = 0;

const backends: Backend[] = [
  {
    name: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'ir-contract-'));
      const path = join(dir, 'ir.db');
      return {
        connect: () => openStore(path),
        editEventData: (seq, data) => {
          const db = new Database(path);
          try {
            db.exec('DROP TRIGGER IF EXISTS events_append_only_update');
            db.prepare('UPDATE events SET data = ? WHERE seq = ?').run(data, seq);
          } finally {
            db.close();
          }
        },
        editRecord: (id, column, value) => sqliteRaw(path, `UPDATE incidents SET ${column} = ? WHERE id = ?`, value, id),
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async start() {
      pg = await startPostgres();
    },
    async stop() {
      await pg?.stop();
    },
    async create() {
      const server = pg!;
      // A fresh database per test: nothing one test wrote is seen by the next.
      const db = `ir_contract_${++databases}`;
      psql(server, 'postgres', `CREATE DATABASE ${db};`);
      const url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${db}`;
      return {
        connect: () => openStore(url),
        editEventData: (seq, data) =>
          void psql(server, db, `ALTER TABLE events DISABLE TRIGGER USER;\nUPDATE events SET data = :'data' WHERE seq = ${seq};\nALTER TABLE events ENABLE TRIGGER USER;\n`, { data }),
        editRecord: (id, column, value) => void psql(server, db, `UPDATE incidents SET ${column} = :'value' WHERE id = :'id';\n`, { value, id }),
        cleanup: () => void psql(server, 'postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE);`),
      };
    },
  },
];

const AT = new Date('2026-11-24T03:00:00.000Z');
const later = (s: number) => new Date(AT.getTime() + s * 1000);
const note = (text: string): NewEvent => ({ type: 'note.added', data: { text } });

/** Resolves the incident only if it is still open: the state check that must not race. */
const resolveOnce = (incident: Incident): NewEvent => {
  if (incident.state === 'resolved') throw new Error(`${incident.id} is already resolved`);
  return { type: 'incident.resolved', data: { summary: 'fixed', from: incident.state } };
};

describe.each(backends)('Store contract: $name', (backend) => {
  const opened: Store[] = [];
  let harness: Harness | undefined;
  const setup = async (connections = 1): Promise<{ h: Harness; stores: Store[] }> => {
    harness = await backend.create();
    const stores: Store[] = [];
    for (let i = 0; i < connections; i++) stores.push(await harness.connect());
    opened.push(...stores);
    return { h: harness, stores };
  };
  beforeAll(async () => {
    await backend.start?.();
  }, 60_000);
  afterAll(async () => {
    await backend.stop?.();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    harness?.cleanup();
    harness = undefined;
  });

  it('declare allocates distinct, ordered ids, also from two connections at once', async () => {
    const { stores } = await setup(2);
    const [a, b] = stores;
    const results = await Promise.all([
      a.declare({ title: 'one', severity: 'SEV-2' }, AT, 'alice'),
      b.declare({ title: 'two', severity: 'SEV-3' }, AT, 'bob'),
      a.declare({ title: 'three', severity: 'SEV-1' }, AT, 'alice'),
    ]);
    const ids = results.map((r) => r.incident.id).sort();
    expect(ids).toEqual(['INC-20261124-001', 'INC-20261124-002', 'INC-20261124-003']);
    for (const r of results) {
      expect(r.event).toMatchObject({ incidentId: r.incident.id, type: 'incident.declared', prevHash: GENESIS_HASH });
      expect(r.incident.state).toBe('investigating');
    }
    const next = await b.declare({ title: 'next day', severity: 'SEV-3' }, later(86_400), 'bob');
    expect(next.incident.id).toBe('INC-20261125-001');
    expect((await a.listIncidents()).map((i) => i.id)).toEqual(['INC-20261125-001', 'INC-20261124-003', 'INC-20261124-002', 'INC-20261124-001']);
  });

  it('describe names the backend, the schema (as this ir knows it), the counts and a latency', async () => {
    const { stores } = await setup(1);
    const [s] = stores;
    await s.declare({ title: 'described', severity: 'SEV-3' }, AT, 'alice');
    await s.append((await s.listIncidents())[0].id, () => note('one more'), later(1), 'alice');
    const info = await s.describe();
    expect(info).toMatchObject({ backend: backend.name === 'sqlite' ? 'sqlite' : 'postgresql', location: s.location, incidents: 1, events: 2 });
    expect(info.schemaVersion).toBe(info.knownSchemaVersion);
    expect(info.knownSchemaVersion).toBeGreaterThanOrEqual(7);
    expect(info.serverVersion).toMatch(/^(SQLite|PostgreSQL) \d+/);
    expect(info.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('a keyed write retried from two connections lands once, keeping its time and when it was recorded', async () => {
    const { stores } = await setup(2);
    const [a, b] = stores;
    const { incident } = await a.declare({ title: 'retry', severity: 'SEV-2' }, AT, 'alice');
    const late = { recordedAt: later(60), deliveryKey: 'outbox:k1' };
    const results = await Promise.allSettled([a.append(incident.id, () => note('once'), later(1), 'alice', late), b.append(incident.id, () => note('once'), later(1), 'alice', late)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(AlreadyDelivered);
    const events = await a.events(incident.id);
    expect(events.filter((e) => e.data.text === 'once')).toHaveLength(1);
    const written = events[1];
    expect(written.at).toBe(later(1).toISOString());
    expect(written.recordedAt).toBe(later(60).toISOString());
    expect(await b.delivery('outbox:k1')).toEqual({ incidentId: incident.id, seq: written.seq });
    expect(await b.delivery('outbox:other')).toBeUndefined();
    // A declaration retried with its key is recognised too, and names the incident it made.
    await a.declare({ title: 'offline', severity: 'SEV-3' }, AT, 'alice', { deliveryKey: 'outbox:k2' });
    await expect(b.declare({ title: 'offline', severity: 'SEV-3' }, AT, 'alice', { deliveryKey: 'outbox:k2' })).rejects.toBeInstanceOf(AlreadyDelivered);
    expect(await a.listIncidents()).toHaveLength(2);
    expect((await a.verify()).ok).toBe(true);
  });

  it('append is atomic and chains: seq grows, each prev_hash is the previous hash, each hash recomputes', async () => {
    const { stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'chain', severity: 'SEV-2' }, AT, 'alice');
    const batch = await s.append(incident.id, () => [note('a'), note('b'), note('c')], later(1), 'alice');
    expect(batch.events.map((e) => e.data.text)).toEqual(['a', 'b', 'c']);
    // A decide that throws writes nothing, not even the events it would have come before.
    await expect(s.append(incident.id, () => { throw new Error('refused'); }, later(2), 'alice')).rejects.toThrow('refused');
    // An event that cannot be written (no JSON for a BigInt) after one that was leaves the whole batch unwritten.
    await expect(s.append(incident.id, () => [note('d'), { type: 'note.added', data: { n: 1n } }, note('e')], later(2), 'alice')).rejects.toThrow();
    const events = await s.events(incident.id);
    expect(events.map((e) => e.type)).toEqual(['incident.declared', 'note.added', 'note.added', 'note.added']);
    let prev = GENESIS_HASH;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (i > 0) expect(e.seq).toBeGreaterThan(events[i - 1].seq);
      expect(e.prevHash).toBe(prev);
      prev = e.hash;
    }
    // The hash covers the row as stored (data as canonical JSON, the record digest): recompute the declaration's.
    const head = await s.head(incident.id);
    expect(head).toEqual({ incidentId: incident.id, seq: events[3].seq, hash: events[3].hash, at: later(1).toISOString() });
    expect((await s.verify(incident.id)).ok).toBe(true);
    expect(await s.head('INC-19990101-001')).toBeUndefined();
    await expect(s.append('INC-19990101-001', () => note('x'), AT, 'alice')).rejects.toThrow(/no incident/);
  });

  it('decide sees the record as another connection left it, and of two racing state changes one wins', async () => {
    const { stores } = await setup(2);
    const [a, b] = stores;
    const { incident } = await a.declare({ title: 'race', severity: 'SEV-2' }, AT, 'alice');
    await a.append(incident.id, () => ({ type: 'incident.state_changed', data: { from: 'investigating', to: 'identified' } }), later(1), 'alice');
    let seen: string | undefined;
    await b.append(incident.id, (current) => {
      seen = current.state;
      return note('seen');
    }, later(2), 'bob');
    expect(seen).toBe('identified');
    const outcomes = await Promise.allSettled([a.append(incident.id, resolveOnce, later(3), 'alice'), b.append(incident.id, resolveOnce, later(3), 'bob')]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(String(lost.reason)).toMatch(/already resolved/);
    const events = await a.events(incident.id);
    expect(events.filter((e) => e.type === 'incident.resolved')).toHaveLength(1);
    expect((await b.getIncident(incident.id))!.state).toBe('resolved');
    expect((await a.verify()).ok).toBe(true);
  });

  it('decide sees the action items in the record inside the lock, including those another connection just wrote', async () => {
    const { stores } = await setup(2);
    const [a, b] = stores;
    const { incident } = await a.declare({ title: 'numbering', severity: 'SEV-3' }, AT, 'alice');
    const add = (s: Store, text: string) =>
      s.append(incident.id, (i) => ({ type: 'action.added', data: { n: i.actions.length + 1, text } }), later(1), 'x');
    await add(a, 'first');
    await add(b, 'second');
    await Promise.all([add(a, 'third'), add(b, 'fourth')]);
    const numbers = (await a.events(incident.id)).filter((e) => e.type === 'action.added').map((e) => e.data.n);
    expect(numbers).toEqual([1, 2, 3, 4]);
  });

  it('iterateEvents yields the whole timeline in order, across pages, and allows writes while iterating', async () => {
    const { stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'long', severity: 'SEV-3' }, AT, 'alice');
    for (let done = 0; done < 1203; done += 401) await s.append(incident.id, () => Array.from({ length: 401 }, (_, i) => note(`n${done + i}`)), later(1), 'alice');
    const seqs: number[] = [];
    let wrote = false;
    for await (const e of s.iterateEvents(incident.id)) {
      seqs.push(e.seq);
      if (!wrote) {
        // A consumer that writes between events must not be refused by an open read.
        await s.append(incident.id, () => note('written while reading'), later(2), 'alice');
        wrote = true;
      }
    }
    const all = await s.events(incident.id);
    expect(all).toHaveLength(1205);
    expect(seqs).toEqual(all.map((e) => e.seq));
  });

  it('eventPages gives events() in pages of batch; iterateEvents without hashes leaves them out (\'\' in their place) and gives the rest as events() does', async () => {
    const { stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'shown', severity: 'SEV-3' }, AT, 'alice');
    await s.append(incident.id, () => Array.from({ length: 7 }, (_, i) => note(`n${i}`)), later(1), 'bob');
    await s.append(incident.id, () => note('late'), later(-1), 'carol', { recordedAt: later(2) });
    const all = await s.events(incident.id);
    const read = async (without: ('prevHash' | 'hash')[]) => {
      const out: TimelineEvent[] = [];
      for await (const e of s.iterateEvents(incident.id, { batch: 3, without })) out.push(e);
      return out;
    };
    const pages: TimelineEvent[][] = [];
    for await (const page of s.eventPages(incident.id, { batch: 3 })) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3]);
    expect(pages.flat()).toEqual(all);
    for await (const page of s.eventPages('INC-19990101-001')) pages.push(page);
    expect(pages).toHaveLength(3);
    expect(await read(['prevHash', 'hash'])).toEqual(all.map((e) => ({ ...e, prevHash: '', hash: '' })));
    expect(await read(['prevHash'])).toEqual(all.map((e) => ({ ...e, prevHash: '' })));
    expect(await read([])).toEqual(all);
  });

  it('eventOutline counts the events, names each actor once, and says whether every time is in toISOString form', async () => {
    const { stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'outlined', severity: 'SEV-3' }, AT, 'alice');
    await s.append(incident.id, () => [note('one'), note('two')], later(1), 'bob the long-named responder');
    const other = await s.declare({ title: 'elsewhere', severity: 'SEV-3' }, AT, 'zed');
    await s.append(other.incident.id, () => note('not counted'), AT, 'yves');
    const outline = (await s.eventOutline!(incident.id))!;
    expect({ ...outline, actors: [...outline.actors].sort() }).toEqual({ count: 3, actors: ['alice', 'bob the long-named responder'], isoTimes: true });
    // A time past year 9999 is written as toISOString writes it (+010000-…), which prints wider.
    await s.append(incident.id, () => note('far future'), new Date('+010000-01-01T00:00:00.000Z'), 'alice');
    expect(await s.eventOutline!(incident.id)).toMatchObject({ count: 4, isoTimes: false });
    expect(await s.eventOutline!('INC-19990101-001')).toEqual({ count: 0, actors: [], isoTimes: true });
  });

  it('eventOutline gives up past MAX_OUTLINE_ACTORS actors, and the reader reads the events instead', async () => {
    const { stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'crowded', severity: 'SEV-3' }, AT, 'a0');
    for (let i = 1; i < MAX_OUTLINE_ACTORS; i++) {
      await s.append(incident.id, () => note('here'), AT, `a${i}`);
      // SQLite's appends are synchronous work: let the test runner's own messages through.
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await s.eventOutline!(incident.id))?.actors).toHaveLength(MAX_OUTLINE_ACTORS);
    await s.append(incident.id, () => note('one more'), AT, 'the last straw');
    expect(await s.eventOutline!(incident.id)).toBeUndefined();
  }, 120_000);

  it('watch wakes a reader when another connection appends, and eventsSince returns what landed after its last seq', async () => {
    const { stores } = await setup(2);
    const [reader, writer] = stores;
    const { incident } = await writer.declare({ title: 'live', severity: 'SEV-2' }, AT, 'alice');
    const other = await writer.declare({ title: 'elsewhere', severity: 'SEV-3' }, AT, 'bob');
    const controller = new AbortController();
    const wakes = reader.watch(controller.signal)[Symbol.asyncIterator]();
    // A generous ceiling, not a speed claim: a watcher that never wakes fails here instead of hanging.
    const woken = () => Promise.race([wakes.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('watch never woke')), 10_000))]);
    expect((await woken()).done).toBe(false); // the subscription is in place
    const last = await reader.latestSeq();
    expect(last).toBe(other.event.seq);

    await writer.append(incident.id, () => [note('from another machine'), note('and another')], later(1), 'bob');
    await writer.append(other.incident.id, () => note('not this incident'), later(2), 'bob');
    expect((await woken()).done).toBe(false);
    // Wakes may be coalesced: read until the writer's last event is in, as a follower does.
    const seen: string[] = [];
    let after = last;
    while (seen.length < 2) {
      const page = await reader.eventsSince(after, incident.id);
      for (const e of page) seen.push(String(e.data.text));
      if (page.length) after = page[page.length - 1].seq;
      else await woken();
    }
    expect(seen).toEqual(['from another machine', 'and another']);
    const everything = await reader.eventsSince(last);
    expect(everything.map((e) => [e.incidentId, e.data.text])).toEqual([
      [incident.id, 'from another machine'],
      [incident.id, 'and another'],
      [other.incident.id, 'not this incident'],
    ]);
    expect(await reader.eventsSince(last, undefined, 2)).toEqual(everything.slice(0, 2));
    expect(await reader.latestSeq()).toBe(everything[2].seq);
    expect(await reader.eventsSince(everything[2].seq)).toEqual([]);

    controller.abort();
    expect((await woken()).done).toBe(true);
  });

  it('the row mirrors state, severity and resolution after every append, from this connection and another', async () => {
    const { h, stores } = await setup(2);
    const [s, other] = stores;
    const { incident } = await s.declare({ title: 'mirror', severity: 'SEV-3' }, AT, 'alice');
    const steps: [Store, NewEvent][] = [
      [s, note('first')],
      [s, { type: 'incident.severity_changed', data: { from: 'SEV-3', to: 'SEV-1', reason: 'worse' } }],
      [s, note('after severity')],
      [s, { type: 'incident.state_changed', data: { from: 'investigating', to: 'mitigating' } }],
      [other, note('from the other connection')],
      [s, { type: 'incident.resolved', data: { summary: 'fixed' } }],
      [s, note('after resolve')],
      [other, { type: 'incident.reopened', data: { reason: 'back' } }],
      [s, note('after reopen')],
    ];
    for (const [store, event] of steps) {
      await store.append(incident.id, () => event, later(1), 'alice');
      // A column left behind reads as "the incident record was changed outside its events".
      const result = await s.verify(incident.id);
      expect(result.problems, `after ${event.type}`).toEqual([]);
    }
    const record = (await other.getIncident(incident.id))!;
    expect([record.severity, record.state, record.resolvedAt]).toEqual(['SEV-1', 'investigating', undefined]);
    // A column edited behind the store's back is set right by the next append that changes it.
    h.editRecord(incident.id, 'severity', 'SEV-4');
    await s.append(incident.id, () => ({ type: 'incident.severity_changed', data: { from: 'SEV-1', to: 'SEV-2', reason: 'better' } }), later(2), 'alice');
    expect((await s.verify(incident.id)).problems).toEqual([]);
  });

  it('verify names a changed event and an edited record; reads do not trust the edited record', async () => {
    const { h, stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'tamper', severity: 'SEV-2' }, AT, 'alice');
    const { events } = await s.append(incident.id, () => [note('keep'), note('regrets'), note('after')], later(1), 'alice');
    await s.close();
    opened.splice(0);

    h.editRecord(incident.id, 'severity', 'SEV-4');
    let fresh = await h.connect();
    opened.push(fresh);
    let result = await fresh.verify(incident.id);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ incidentId: incident.id, reason: expect.stringMatching(/record was changed outside its events: severity/) }]);
    expect((await fresh.getIncident(incident.id))!.severity).toBe('SEV-2');
    expect((await fresh.listIncidents()).map((i) => i.severity)).toEqual(['SEV-2']);
    h.editRecord(incident.id, 'severity', 'SEV-2');

    const target = events[1];
    h.editEventData(target.seq, canonicalJson({ text: 'regretS' }));
    fresh = await h.connect();
    opened.push(fresh);
    result = await fresh.verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ incidentId: incident.id, seq: target.seq, reason: expect.stringMatching(/modified/) }]);
    // The stored hash is what the unedited row hashes to: the chain, not the row, is the witness.
    expect(eventHash(target.prevHash, { seq: target.seq, incident_id: incident.id, at: target.at, type: target.type, actor: target.actor, data: canonicalJson({ text: 'regretS' }) })).not.toBe(target.hash);
  });

  it('anchors: a kept head verifies while the chain holds it, later events included; a foreign hash does not', async () => {
    const { stores } = await setup();
    const [s] = stores;
    const { incident } = await s.declare({ title: 'anchor', severity: 'SEV-2' }, AT, 'alice');
    await s.append(incident.id, () => note('before'), later(1), 'alice');
    const head = (await s.head(incident.id))!;
    let result = await s.verify(incident.id, [head]);
    expect(result.anchors).toEqual([expect.objectContaining({ seq: head.seq, hash: head.hash, incidentId: incident.id, ok: true })]);
    expect(result.anchors[0].reason).toMatch(/as its newest event/);
    await s.append(incident.id, () => [note('after 1'), note('after 2')], later(2), 'alice');
    result = await s.verify(incident.id, [head]);
    expect(result.ok).toBe(true);
    expect(result.anchors[0].reason).toMatch(/2 later events/);
    result = await s.verify(incident.id, [{ seq: head.seq, hash: 'f'.repeat(64) }]);
    expect(result.ok).toBe(false);
    expect(result.anchors[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/no longer has the anchored hash/) });
    result = await s.verify(undefined, [{ seq: 999_999, hash: head.hash }]);
    expect(result.anchors[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/no longer in the store/) });
  });

  it('runbook runs round-trip: create, update (step process too), get, unfinished, withStepProcess, forIncident', async () => {
    const { stores } = await setup(2);
    const [a, b] = stores;
    const { incident } = await a.declare({ title: 'runs', severity: 'SEV-2' }, AT, 'alice');
    const base = {
      incidentId: incident.id,
      runbookId: 'redis-failure',
      runbookPath: '/rb/redis-failure.yaml',
      runbookSha256: 'a'.repeat(64),
      startedAt: later(1).toISOString(),
      updatedAt: later(1).toISOString(),
      status: 'running' as const,
      nextIndex: 0,
      currentIndex: null,
      vars: { host: 'cache-1' },
      failures: 0,
      pid: 4242,
      host: 'laptop-a',
    };
    const first = await a.runs.create(base);
    const second = await b.runs.create({ ...base, runbookId: 'other', startedAt: later(2).toISOString() });
    expect([first.id, second.id]).toEqual(['RUN-20261124-001-1', 'RUN-20261124-001-2']);
    expect(first.stepProcess).toBeNull();
    const proc = { pid: 777, startTicks: 123456, bootId: 'boot-1', startedAt: later(3).toISOString(), host: 'laptop-a', command: 'redis-cli PING', outputFile: '/out/1.log' };
    await a.runs.update(first.id, { currentIndex: 2, nextIndex: 2, stepProcess: proc, vars: { host: 'cache-2' }, failures: 1 });
    expect(await b.runs.get(first.id)).toEqual({ ...base, id: first.id, currentIndex: 2, nextIndex: 2, stepProcess: proc, vars: { host: 'cache-2' }, failures: 1 });
    expect((await b.runs.withStepProcess(incident.id, 'redis-failure')).map((r) => r.id)).toEqual([first.id]);
    expect((await b.runs.unfinished(incident.id))!.id).toBe(second.id);
    expect((await b.runs.unfinished(incident.id, 'redis-failure'))!.id).toBe(first.id);
    await a.runs.update(first.id, { status: 'completed', stepProcess: null, currentIndex: null });
    expect((await b.runs.get(first.id))!.stepProcess).toBeNull();
    expect(await b.runs.unfinished(incident.id, 'redis-failure')).toBeUndefined();
    expect((await b.runs.forIncident(incident.id)).map((r) => [r.id, r.status])).toEqual([[first.id, 'completed'], [second.id, 'running']]);
    expect(await b.runs.get('RUN-nope')).toBeUndefined();
  });

  it('evidence records round-trip, each collection row committed with its timeline event', async () => {
    const { stores } = await setup(2);
    const [a, b] = stores;
    const { incident } = await a.declare({ title: 'evidence', severity: 'SEV-2' }, AT, 'alice');
    const rec = {
      incidentId: incident.id,
      startedAt: later(10).toISOString(),
      finishedAt: null,
      status: 'running' as const,
      collectors: ['k8s-pods', 'redis-info'],
      since: AT.toISOString(),
      namespace: 'shop',
      selector: 'app=cart',
      kubeContext: 'prod',
      collectedBy: 'alice@laptop-a',
      irVersion: '0.1.0',
      pid: 4242,
      host: 'laptop-a',
    };
    const started = (id: string): NewEvent => ({ type: 'evidence.collection_started', data: { collection_id: id } });
    const one = await a.evidence.create(rec, started, 'alice');
    const two = await b.evidence.create(rec, started, 'bob');
    expect([one.id, two.id]).toEqual(['EV-20261124T030010-1', 'EV-20261124T030010-2']);
    const startedEvents = (await a.events(incident.id)).filter((e) => e.type === 'evidence.collection_started');
    expect(startedEvents.map((e) => [e.data.collection_id, e.actor, e.at])).toEqual([[one.id, 'alice', rec.startedAt], [two.id, 'bob', rec.startedAt]]);
    // A started event that cannot be written leaves no row behind, and a row never lacks its event.
    await expect(a.evidence.create({ ...rec, startedAt: later(20).toISOString() }, () => { throw new Error('no started event'); }, 'alice')).rejects.toThrow('no started event');
    expect((await a.evidence.forIncident(incident.id)).map((c) => c.id)).toEqual([one.id, two.id]);

    const opened = { collector: 'k8s-pods', file: `evidence/${one.id}/k8s-pods.json`, source: 'GET /api/v1/pods', openedAt: later(11).toISOString() };
    await a.evidence.addOpened(one.id, opened);
    await expect(a.evidence.addOpened(one.id, opened)).rejects.toThrow();
    expect(await b.evidence.opened(one.id)).toEqual([opened]);
    const files = [
      { collector: 'k8s-pods', file: opened.file, source: opened.source, startedAt: opened.openedAt, finishedAt: later(12).toISOString(), bytes: 10, sha256: 'b'.repeat(64), status: 'ok' as const },
      { collector: 'redis-info', file: null, source: 'redis-cli INFO', startedAt: later(11).toISOString(), finishedAt: later(11).toISOString(), bytes: 0, sha256: null, status: 'skipped' as const, reason: 'redis-cli not found on PATH' },
    ];
    await a.evidence.addFiles(one.id, files);
    expect(await b.evidence.files(one.id)).toEqual(files);
    // The end is recorded with its event or not at all.
    await expect(a.evidence.finish(one.id, 'complete', later(13).toISOString(), { type: 'evidence.collected', data: { n: 1n } }, 'alice')).rejects.toThrow();
    expect((await b.evidence.get(one.id))!.status).toBe('running');
    await a.evidence.finish(one.id, 'partial', later(13).toISOString(), { type: 'evidence.collected', data: { collection_id: one.id, status: 'partial' } }, 'alice');
    expect(await b.evidence.get(one.id)).toEqual({ ...rec, id: one.id, status: 'partial', finishedAt: later(13).toISOString(), pid: null });
    const collected = (await b.events(incident.id)).filter((e) => e.type === 'evidence.collected');
    expect(collected.map((e) => [e.data.collection_id, e.at])).toEqual([[one.id, later(13).toISOString()]]);
    expect((await b.evidence.forIncident(incident.id)).map((c) => [c.id, c.status])).toEqual([[one.id, 'partial'], [two.id, 'running']]);
    expect((await b.verify()).ok).toBe(true);
  });
});
