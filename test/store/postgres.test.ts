// What only the PostgreSQL backend has to prove: clients starting together migrate once, many
// connections appending to one incident keep one gapless chain, the server itself refuses to rewrite
// events, a newer schema is refused, and the password never shows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/incident.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import type { Store } from '../../src/store/types.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

let server: PostgresServer;
let n = 0;

/** A new, empty database on the server, and its URL (password included, as a user would write it). */
function database(): { name: string; url: string } {
  const name = `ir_pg_${++n}`;
  psql(server, 'postgres', `CREATE DATABASE ${name};`);
  return { name, url: `postgresql://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${name}` };
}

const AT = new Date('2026-11-24T03:00:00.000Z');
const note = (text: string): NewEvent => ({ type: 'note.added', data: { text } });

describe('PostgreSQL backend', () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('has the same schema versions as SQLite', () => {
    expect(PG_MIGRATIONS).toHaveLength(MIGRATIONS.length);
  });

  it('clients migrating an empty database at the same time all succeed, and each migration runs once', async () => {
    const { name, url } = database();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(url)));
    try {
      const applied = psql(server, name, 'SELECT string_agg(version::text, \',\' ORDER BY version) FROM schema_migrations;').trim();
      expect(applied).toBe(PG_MIGRATIONS.map((_, i) => i + 1).join(','));
      // Each client can work on the schema the others may have created.
      const { incident } = await stores[0].declare({ title: 'after migrating', severity: 'SEV-3' }, AT, 'alice');
      expect((await stores[3].getIncident(incident.id))!.title).toBe('after migrating');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('N connections × M appends to one incident: one gapless chain that verifies', async () => {
    const { url } = database();
    const N = 6;
    const M = 40;
    const stores: Store[] = [];
    try {
      for (let i = 0; i < N; i++) stores.push(await openStore(url));
      const { incident } = await stores[0].declare({ title: 'busy', severity: 'SEV-1' }, AT, 'alice');
      await Promise.all(
        stores.map(async (s, i) => {
          for (let j = 0; j < M; j++) await s.append(incident.id, () => note(`${i}-${j}`), new Date(AT.getTime() + j), `writer-${i}`);
        }),
      );
      const events = await stores[1].events(incident.id);
      expect(events).toHaveLength(1 + N * M);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 1 + N * M }, (_, i) => i + 1));
      for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
      expect(new Set(events.slice(1).map((e) => e.data.text)).size).toBe(N * M);
      const result = await stores[2].verify();
      expect(result).toMatchObject({ ok: true, incidents: 1, events: 1 + N * M });
      expect((await stores[3].head(incident.id))!.seq).toBe(1 + N * M);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('each committed append notifies ir_events once, with its incident and its last seq', async () => {
    const { url } = database();
    const s = await openStore(url);
    const { default: pg } = await import('pg');
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query('LISTEN ir_events');
    try {
      const { incident } = await s.declare({ title: 'followed', severity: 'SEV-2' }, AT, 'alice');
      await s.append(incident.id, () => [note('a'), note('b')], AT, 'alice');
      await s.append(incident.id, () => note('c'), AT, 'bob');
      // Delivery to a listener is asynchronous: wait for the three, then check there is no fourth.
      for (let i = 0; heard.length < 3 && i < 100; i++) await listener.query('SELECT pg_sleep(0.05)');
      await listener.query('SELECT 1');
      expect(heard).toEqual([`${incident.id}:1`, `${incident.id}:3`, `${incident.id}:4`]);
    } finally {
      await listener.end();
      await s.close();
    }
  });

  it('the server refuses to UPDATE, DELETE or TRUNCATE events and evidence file records', async () => {
    const { name, url } = database();
    const s = await openStore(url);
    try {
      const { incident } = await s.declare({ title: 'history', severity: 'SEV-2' }, AT, 'alice');
      const rec = { incidentId: incident.id, startedAt: AT.toISOString(), finishedAt: null, status: 'running' as const, collectors: ['k8s-pods'], since: null, namespace: null, selector: null, kubeContext: null, collectedBy: 'alice', irVersion: '0.1.0', pid: 1, host: 'a' };
      const c = await s.evidence.create(rec, (id) => ({ type: 'evidence.collection_started', data: { collection_id: id } }), 'alice');
      await s.evidence.addOpened(c.id, { collector: 'k8s-pods', file: 'evidence/pods.json', source: 'GET /pods', openedAt: AT.toISOString() });
      await s.evidence.addFiles(c.id, [{ collector: 'k8s-pods', file: 'evidence/pods.json', source: 'GET /pods', startedAt: AT.toISOString(), finishedAt: AT.toISOString(), bytes: 2, sha256: 'c'.repeat(64), status: 'ok' }]);
    } finally {
      await s.close();
    }
    const refused = [
      `UPDATE events SET data = '{}' WHERE seq = 1;`,
      'DELETE FROM events;',
      'TRUNCATE events CASCADE;',
      `UPDATE evidence_files SET sha256 = NULL;`,
      'DELETE FROM evidence_files;',
      'DELETE FROM evidence_files_opened;',
      'TRUNCATE evidence_files;',
    ];
    for (const sql of refused) expect(() => psql(server, name, sql), sql).toThrow(/append-only/);
    expect(psql(server, name, 'SELECT count(*) FROM events; SELECT count(*) FROM evidence_files; SELECT count(*) FROM evidence_files_opened;').trim().split('\n')).toEqual(['2', '1', '1']);
  });

  it('a database written by a newer ir is refused, and left as it was', async () => {
    const { name, url } = database();
    await (await openStore(url)).close();
    psql(server, name, 'INSERT INTO schema_migrations (version) VALUES (99);');
    await expect(openStore(url)).rejects.toThrow(/written by a newer ir \(schema 99; this ir knows schema \d+\): upgrade ir/);
    expect(psql(server, name, 'SELECT max(version) FROM schema_migrations;').trim()).toBe('99');
  });

  it('the password appears neither in the location nor in errors', async () => {
    const { url } = database();
    const s = await openStore(url);
    try {
      expect(s.location).not.toContain(server.password);
      expect(s.location).toMatch(/^postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/ir_pg_\d+$/);
      expect(s.localDir).toBeUndefined();
    } finally {
      await s.close();
    }
    const wrong = url.replace(encodeURIComponent(server.password), 'not-the-password-5521');
    const refused = await openStore(wrong).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused?.message).toMatch(/cannot open the team store postgresql:\/\/postgres:\*\*\*@/);
    expect(refused?.message).not.toContain('not-the-password-5521');
    const closed = await openStore(`postgres://u:secret-9931@127.0.0.1:1/ir`).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(closed?.message).toMatch(/team store unreachable: postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/ir: .*ECONNREFUSED/);
    expect(closed?.message).not.toContain('secret-9931');
  });

  it('watch: a LISTEN connection killed by the server comes back, says so, and wakes the reader to catch up', async () => {
    const { name, url } = database();
    const reader = await openStore(url);
    const writer = await openStore(url);
    const controller = new AbortController();
    try {
      const { incident } = await writer.declare({ title: 'flaky network', severity: 'SEV-2' }, AT, 'alice');
      const states: string[] = [];
      const wakes = reader.watch(controller.signal, { onConnection: (state, why) => states.push(why ? `${state}: ${why}` : state) })[Symbol.asyncIterator]();
      const woken = () => Promise.race([wakes.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('watch never woke')), 15_000))]);
      expect((await woken()).done).toBe(false);
      const last = await reader.latestSeq();
      // The listener's backend, ended as a restart or a DBA would; the note lands while it is away.
      const killed = psql(server, name, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ir_events';`).trim();
      expect(killed).toBe('1');
      await writer.append(incident.id, () => note('while the listener was away'), AT, 'bob');
      const seen: string[] = [];
      while (!seen.length) {
        expect((await woken()).done).toBe(false);
        seen.push(...(await reader.eventsSince(last, incident.id)).map((e) => String(e.data.text)));
      }
      expect(seen).toEqual(['while the listener was away']);
      // Back on the new connection, notifications flow again.
      while (!states.includes('back')) expect((await woken()).done).toBe(false);
      expect(states[0]).toMatch(/^lost: /);
      expect(states.join('\n')).not.toContain(server.password);
      await writer.append(incident.id, () => note('after it came back'), AT, 'bob');
      expect((await woken()).done).toBe(false);
      expect((await reader.eventsSince(last, incident.id)).map((e) => e.data.text)).toContain('after it came back');
    } finally {
      controller.abort();
      await reader.close();
      await writer.close();
    }
  });
});
