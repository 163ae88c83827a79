// The streaming read path of the Store seam on both backends (pages by seq, across page boundaries),
// the per-connection write state of SQLite (statements and the last written record) across reopen
// and other writers, and the hand-written event body against canonical JSON.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident, NewEvent, TimelineEvent } from '../../src/core/incident.js';
import Database from 'better-sqlite3';
import { canonicalJson } from '../../src/store/canonical.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { eventBody } from '../../src/store/chain.js';
import { openStore } from '../../src/store/open.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const AT = new Date('2026-11-24T03:00:00.000Z');
const note = (text: string): NewEvent => ({ type: 'note.added', data: { text } });

async function collect(it: AsyncIterable<TimelineEvent>): Promise<TimelineEvent[]> {
  const out: TimelineEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** 50 events (the declaration and 49 notes, one of them late), then every page size reads them all, in order. */
async function pagesAcrossBoundaries(store: Store): Promise<void> {
  const { incident } = await store.declare({ title: 'paged', severity: 'SEV-2' }, AT, 'alice');
  await store.append(incident.id, () => Array.from({ length: 48 }, (_, i) => note(`n${i} "quoted" | piped`)), new Date(AT.getTime() + 1000), 'bob');
  // Another incident in between: pages must stay within their incident.
  const other = await store.declare({ title: 'other', severity: 'SEV-3' }, AT, 'carol');
  await store.append(other.incident.id, () => note('elsewhere'), AT, 'carol');
  await store.append(incident.id, () => note('late'), new Date(AT.getTime() - 1000), 'bob', { recordedAt: new Date(AT.getTime() + 2000) });
  const all = await store.events(incident.id);
  expect(all).toHaveLength(50);
  for (const batch of [1, 7, 25, 49, 50, 51, 1000]) {
    expect(await collect(store.iterateEvents(incident.id, { batch })), `batch ${batch}`).toEqual(all);
  }
  expect(await collect(store.iterateEvents(incident.id))).toEqual(all);
  expect(await collect(store.iterateEvents('INC-19990101-001', { batch: 7 }))).toEqual([]);
}

describe('SQLite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ir-stream-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('iterateEvents pages by seq across batch boundaries and equals events()', async () => {
    const store = SqliteStore.open(join(dir, 'paged.db'));
    try {
      await pagesAcrossBoundaries(store);
    } finally {
      await store.close();
    }
  });

  it('cached statements belong to their connection: a reopened store (after a migration) appends and streams, a closed one refuses', async () => {
    const path = join(dir, 'reopen.db');
    // A file at schema 7: the first open migrates it, on the connection whose statements it then caches.
    const raw = new Database(path);
    for (let v = 0; v < 7; v++) {
      raw.exec(MIGRATIONS[v]);
      raw.pragma(`user_version = ${v + 1}`);
    }
    raw.close();
    const first = SqliteStore.open(path);
    expect(first.db.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const { incident } = await first.declare({ title: 'reopened', severity: 'SEV-2' }, AT, 'alice');
    await first.append(incident.id, () => note('before'), AT, 'alice');
    expect(await collect(first.iterateEvents(incident.id, { batch: 1 }))).toHaveLength(2);
    await first.close();
    await expect(first.append(incident.id, () => note('after close'), AT, 'alice')).rejects.toThrow(/not open/);
    await expect(collect(first.iterateEvents(incident.id))).rejects.toThrow(/not open/);

    const second = SqliteStore.open(path);
    try {
      await second.append(incident.id, () => note('after reopen'), AT, 'alice');
      expect((await collect(second.iterateEvents(incident.id, { batch: 2 }))).map((e) => e.data.text)).toEqual([undefined, 'before', 'after reopen']);
      expect((await second.verify(incident.id)).ok).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('a connection decides on what another connection wrote since its own last append', async () => {
    const path = join(dir, 'two.db');
    const a = SqliteStore.open(path);
    const b = SqliteStore.open(path);
    try {
      const { incident } = await a.declare({ title: 'two writers', severity: 'SEV-2' }, AT, 'alice');
      await a.append(incident.id, () => ({ type: 'incident.state_changed', data: { from: 'investigating', to: 'identified' } }), AT, 'alice');
      await b.append(incident.id, () => ({ type: 'incident.state_changed', data: { from: 'identified', to: 'mitigating' } }), AT, 'bob');
      let seen: Incident | undefined;
      await a.append(incident.id, (i) => ((seen = i), note('after bob')), AT, 'alice');
      expect(seen!.state).toBe('mitigating');
      // And an edited row does not steer it either: the record comes from the events.
      const { events } = await a.append(incident.id, () => note('again'), AT, 'alice');
      a.db.db.prepare(`UPDATE incidents SET doc = json_set(doc, '$.state', 'resolved'), state = 'resolved' WHERE id = ?`).run(incident.id);
      await a.append(incident.id, (i) => ((seen = i), note('after the edit')), AT, 'alice');
      expect(seen!.state).toBe('mitigating');
      expect(events[0].seq).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('event body', () => {
  it('is canonicalJson of the row, with absent fields left out as before', () => {
    const rows = [
      { seq: 1, incident_id: 'INC-20261124-001', at: AT.toISOString(), type: 'note.added', actor: 'al "x" ice', data: '{"text":"a\\nb \\u2028 é"}' },
      { seq: 2, incident_id: 'INC-20261124-001', at: AT.toISOString(), type: 't', actor: 'a', data: '{}', state_sha256: 'f'.repeat(64), origin: 'host/abc', recorded_at: AT.toISOString() },
      { seq: 3, incident_id: 'I', at: 'x', type: 't', actor: '', data: '', state_sha256: null, origin: null, recorded_at: null },
      { seq: 4, incident_id: 'I', at: 'x', type: 't', actor: 'a', data: '[]', state_sha256: '', origin: '', recorded_at: undefined },
    ];
    for (const row of rows) {
      const { state_sha256, origin, recorded_at, ...rest } = row as typeof row & { state_sha256?: string | null; origin?: string | null; recorded_at?: string | null };
      expect(eventBody(row)).toBe(canonicalJson({ ...rest, state_sha256: state_sha256 ?? undefined, origin: origin ?? undefined, recorded_at: recorded_at ?? undefined }));
    }
  });
});

describe('PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('iterateEvents pages by seq across batch boundaries and equals events()', async () => {
    psql(server, 'postgres', 'CREATE DATABASE ir_stream;');
    const store = await openStore(`postgresql://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/ir_stream`);
    try {
      await pagesAcrossBoundaries(store);
    } finally {
      await store.close();
    }
  });
});
