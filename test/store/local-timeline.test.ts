// Store.localTimeline: what a helper thread needs to read an incident's events itself. Only the
// SQLite store can say; the team store (and PostgreSQL under it) keeps the one-thread read.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/store.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { TeamStore } from '../../src/store/team/store.js';

const AT = new Date('2026-11-25T01:00:00.000Z');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('names the SQLite file and the seqs of the incident\'s first and newest event, others\' events between', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ir-local-'));
  dirs.push(dir);
  const path = join(dir, 'ir.db');
  const store = SqliteStore.open(path);
  try {
    const { incident, event } = await store.declare({ title: 'here', severity: 'SEV-3' }, AT, 'alice');
    const other = (await store.declare({ title: 'there', severity: 'SEV-3' }, AT, 'bob')).incident.id;
    await store.append(other, () => ({ type: 'note.added', data: { text: 'between' } }), AT, 'bob');
    const { events } = await store.append(incident.id, () => ({ type: 'note.added', data: { text: 'last' } }), AT, 'alice');
    await store.append(other, () => ({ type: 'note.added', data: { text: 'after' } }), AT, 'bob');
    expect(await store.localTimeline(incident.id)).toEqual({ path, first: event.seq, last: events[0].seq });
    expect(events[0].seq - event.seq + 1).toBeGreaterThan(2);
    expect(await store.localTimeline('INC-19990101-001')).toBeUndefined();
  } finally {
    await store.close();
  }
});

it('is not offered by the team store or PostgreSQL', () => {
  expect('localTimeline' in PostgresStore.prototype).toBe(false);
  expect('localTimeline' in TeamStore.prototype).toBe(false);
});
