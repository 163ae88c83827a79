// PostgresStore.importIncident in-process, for what the end-to-end migrate test cannot arrange: an
// evidence collection id already taken in the team store, two imports of one incident racing, and a
// dry run leaving no trace (not even a raised id counter).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import { readIncident } from '../../src/store/portable.js';
import type { CollectionRecord, Store } from '../../src/store/types.js';
import { createDatabase, psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const AT = new Date('2026-11-24T03:00:00.000Z');
const STARTED = '2026-11-24T03:00:05.000Z';
const ORIGIN = 'laptop/0a1b2c3d';

let server: PostgresServer;
let dir: string;
let n = 0;

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'ir-import-'));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const collection = (incidentId: string): Omit<CollectionRecord, 'id'> => ({
  incidentId,
  startedAt: STARTED,
  finishedAt: null,
  status: 'running',
  collectors: ['deploy-history'],
  since: null,
  namespace: null,
  selector: null,
  kubeContext: null,
  collectedBy: 'alice',
  irVersion: '0.1.0',
  pid: null,
  host: 'laptop',
});

/** A SQLite store with one incident and one finished collection started at STARTED. */
async function localIncident(): Promise<{ local: Store; id: string; collectionId: string }> {
  const local = await openStore(join(dir, `local-${++n}.db`), { origin: ORIGIN });
  const { incident } = await local.declare({ title: 'local', severity: 'SEV-2' }, AT, 'alice');
  const c = await local.evidence.create(collection(incident.id), (id) => ({ type: 'evidence.started', data: { collection_id: id } }), 'alice');
  const file = `evidence/${c.id}/deploy-history.txt`;
  await local.evidence.addOpened(c.id, { collector: 'deploy-history', file, source: 'printf', openedAt: STARTED });
  const rec = { collector: 'deploy-history', file, source: 'printf', startedAt: STARTED, finishedAt: STARTED, bytes: 3, sha256: 'a'.repeat(64), status: 'ok' as const };
  await local.evidence.addFiles(c.id, [rec]);
  await local.evidence.finish(c.id, 'complete', '2026-11-24T03:00:06.000Z', { type: 'evidence.collected', data: { collection_id: c.id, status: 'complete', files: [rec] } }, 'alice');
  return { local, id: incident.id, collectionId: c.id };
}

describe('PostgresStore.importIncident', () => {
  it('a collection id taken in the team store gets the next one, and the events that name it follow', async () => {
    const team = (await openStore(createDatabase(server, 'ir_import_1'))) as PostgresStore;
    const { local, id, collectionId } = await localIncident();
    try {
      const { incident } = await team.declare({ title: 'team', severity: 'SEV-2' }, AT, 'bob');
      const taken = await team.evidence.create(collection(incident.id), (cid) => ({ type: 'evidence.started', data: { collection_id: cid } }), 'bob');
      expect(taken.id).toBe(collectionId);

      const r = await team.importIncident(await readIncident(local, ORIGIN, id), 'alice', AT);
      expect(r).toMatchObject({ status: 'imported', teamId: 'INC-20261124-002', collections: 1, renamed: { collections: { [collectionId]: 'EV-20261124T030005-2' } } });
      const [col] = await team.evidence.forIncident(r.teamId);
      expect(col).toMatchObject({ id: 'EV-20261124T030005-2', host: 'laptop', status: 'complete' });
      expect(await team.evidence.files(col.id)).toHaveLength(1);
      expect(await team.evidence.opened(col.id)).toHaveLength(1);
      const named = (await team.events(r.teamId)).filter((e) => e.type.startsWith('evidence.')).map((e) => e.data.collection_id);
      expect(named).toEqual(['EV-20261124T030005-2', 'EV-20261124T030005-2']);
      // The team's own collection is untouched.
      expect((await team.evidence.forIncident(incident.id)).map((c) => c.id)).toEqual([collectionId]);
      expect(await team.verify()).toMatchObject({ ok: true, incidents: 2 });
      // Nothing new: nothing added, the same ids.
      expect(await team.importIncident(await readIncident(local, ORIGIN, id), 'alice', AT)).toMatchObject({ status: 'unchanged', teamId: r.teamId, events: 0, collections: 0 });
      expect(await team.evidence.forIncident(r.teamId)).toHaveLength(1);
    } finally {
      await Promise.all([team.close(), local.close()]);
    }
  });

  it('two imports of one incident at once: one imports it, the other finds it there', async () => {
    const url = createDatabase(server, 'ir_import_2');
    const [a, b] = (await Promise.all([openStore(url), openStore(url)])) as PostgresStore[];
    const { local, id } = await localIncident();
    try {
      const src = await readIncident(local, ORIGIN, id);
      const results = await Promise.all([a.importIncident(src, 'alice', AT), b.importIncident(src, 'alice', AT)]);
      expect(results.map((r) => r.status).sort()).toEqual(['imported', 'unchanged']);
      expect(psql(server, 'ir_import_2', 'SELECT count(*) FROM incidents;').trim()).toBe('1');
      expect(await a.verify()).toMatchObject({ ok: true, incidents: 1, events: src.events.length + 1 });
    } finally {
      await Promise.all([a.close(), b.close(), local.close()]);
    }
  });

  it('a dry run returns the plan and leaves the team store exactly as it was', async () => {
    const team = (await openStore(createDatabase(server, 'ir_import_3'))) as PostgresStore;
    const { local, id } = await localIncident();
    try {
      await team.declare({ title: 'team', severity: 'SEV-2' }, AT, 'bob');
      const dump = () => psql(server, 'ir_import_3', `SELECT (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM evidence_collections) || ' ' || (SELECT string_agg(scope || '=' || n, ',') FROM id_counters);`).trim();
      const before = dump();
      const plan = await team.importIncident(await readIncident(local, ORIGIN, id), 'alice', AT, { dryRun: true });
      expect(plan).toMatchObject({ status: 'imported', teamId: 'INC-20261124-002', collections: 1 });
      expect(dump()).toBe(before);
      expect((await team.importIncident(await readIncident(local, ORIGIN, id), 'alice', AT)).teamId).toBe('INC-20261124-002');
    } finally {
      await Promise.all([team.close(), local.close()]);
    }
  });
});
