// listIncidents on both backends: the list is what reading each incident on its own gives (a
// record edited behind the store's back is folded from its events there too), and on PostgreSQL
// it costs one query for the whole list, not one per incident.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Incident } from '../../src/core/incident.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const AT = Date.parse('2026-11-24T03:00:00.000Z');
const COUNT = 25;

/** Declares COUNT incidents, acknowledging some, resolving most; returns their ids. */
async function seed(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    // Some share a declaration time, so the id decides their order.
    const at = new Date(AT + Math.floor(i / 2) * 60_000);
    const { incident } = await store.declare({ title: `incident ${i}`, severity: `SEV-${i % 4}`, service: 'checkout' }, at, 'alice');
    if (i % 3) await store.append(incident.id, () => ({ type: 'incident.acknowledged', data: {} }), new Date(at.getTime() + 5000), 'bob');
    if (i % 4) await store.append(incident.id, () => ({ type: 'incident.resolved', data: { summary: 'fixed' } }), new Date(at.getTime() + 9000), 'bob');
    ids.push(incident.id);
  }
  return ids;
}

/** The list as reading each incident alone gives it: newest first, ties by id, newest first. */
async function oneByOne(store: Store, ids: string[], all: boolean): Promise<Incident[]> {
  const each = (await Promise.all(ids.map((id) => store.getIncident(id)))).filter((i): i is Incident => i !== undefined);
  return each
    .filter((i) => all || i.state !== 'resolved')
    .sort((a, b) => (a.declaredAt === b.declaredAt ? (a.id < b.id ? 1 : -1) : a.declaredAt < b.declaredAt ? 1 : -1));
}

describe('listIncidents', () => {
  let server: PostgresServer;
  const dirs: string[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const backends: { name: string; open(): Promise<{ store: Store; edit(id: string, column: 'state' | 'severity', value: string): void }> }[] = [
    {
      name: 'sqlite',
      async open() {
        const dir = mkdtempSync(join(tmpdir(), 'ir-list-'));
        dirs.push(dir);
        const path = join(dir, 'ir.db');
        return {
          store: await openStore(path),
          edit: (id, column, value) => {
            const db = new Database(path);
            db.prepare(`UPDATE incidents SET ${column} = ? WHERE id = ?`).run(value, id);
            db.close();
          },
        };
      },
    },
    {
      name: 'postgres',
      async open() {
        psql(server, 'postgres', 'CREATE DATABASE ir_list;');
        const url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/ir_list`;
        return { store: await openStore(url), edit: (id, column, value) => void psql(server, 'ir_list', `UPDATE incidents SET ${column} = :'value' WHERE id = :'id';\n`, { value, id }) };
      },
    },
  ];

  it.each(backends)('$name: the same incidents, in the same order, as reading each one; an edited row as its events say', async (backend) => {
    const { store, edit } = await backend.open();
    try {
      const ids = await seed(store);
      // An open incident's row claims it is resolved, a resolved one's claims another severity.
      const open = ids.find((_, i) => i % 4 === 0)!;
      edit(open, 'state', 'resolved');
      edit(ids[5], 'severity', 'SEV-0');
      const all = await store.listIncidents({ all: true });
      expect(all).toEqual(await oneByOne(store, ids, true));
      expect(all).toHaveLength(COUNT);
      const openOnes = await store.listIncidents();
      expect(openOnes).toEqual(await oneByOne(store, ids, false));
      expect(openOnes.map((i) => i.id)).toContain(open);
      expect(openOnes.every((i) => i.state !== 'resolved')).toBe(true);
      expect(all.find((i) => i.id === ids[5])!.severity).toBe('SEV-1');
    } finally {
      await store.close();
    }
  });

  it('postgres: one query for the list, plus one per record its head event does not vouch for', async () => {
    const url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/ir_list`;
    const store = await openStore(url);
    const queries = vi.spyOn(pg.Pool.prototype, 'query');
    try {
      const list = await store.listIncidents({ all: true });
      expect(list).toHaveLength(COUNT);
      // The two rows edited in the test before are folded from their events (one page each).
      expect(queries.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      queries.mockRestore();
      await store.close();
    }
  });
});
