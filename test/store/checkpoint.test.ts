// The SQLite store's checkpoint policy for a long writer: the WAL is copied back into the database
// every WAL_CHECKPOINT_PAGES pages (not SQLite's 1000, whose two fsyncs each time a run of appends
// waited for), so the WAL grows past 1000 pages yet stays bounded, and nothing is lost on the way.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WAL_CHECKPOINT_PAGES } from '../../src/store/sqlite/database.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { tempHome } from '../helpers/cli.js';

const AT = new Date('2026-11-25T03:00:00.000Z');

const homes: (() => void)[] = [];
afterEach(() => {
  for (const c of homes.splice(0)) c();
});

/** Bytes of a WAL holding `frames` frames: a 32-byte header, then a 24-byte header and a page per frame. */
const walBytes = (frames: number, pageSize: number) => 32 + frames * (24 + pageSize);

describe('SQLite store: checkpoints of a long writer', () => {
  it('lets the WAL grow past 1000 pages before a checkpoint, keeps it within WAL_CHECKPOINT_PAGES, and loses nothing', async () => {
    const { home, cleanup } = tempHome('ir-checkpoint-');
    homes.push(cleanup);
    const path = join(home, 'ir.db');
    // NORMAL: this is about when checkpoints run, not about syncing each commit.
    const store = SqliteStore.open(path, { synchronous: 'NORMAL' });
    const { incident } = await store.declare({ title: 'long runbook', severity: 'SEV-2' }, AT, 'alice');
    const pageSize = store.db.db.pragma('page_size', { simple: true }) as number;
    // Each note commits a page of events and one of its index: enough notes for WAL_CHECKPOINT_PAGES
    // pages and half as many again, so at least one checkpoint must have run and restarted the WAL.
    const notes = Math.ceil((WAL_CHECKPOINT_PAGES * 1.5) / 2);
    let largest = 0;
    for (let i = 0; i < notes; i++) {
      await store.append(incident.id, () => ({ type: 'note.added', data: { text: `step ${i} done` } }), new Date(AT.getTime() + i), 'alice');
      if (i % 50 === 0) largest = Math.max(largest, statSync(`${path}-wal`).size);
    }
    largest = Math.max(largest, statSync(`${path}-wal`).size);
    // Under SQLite's default the WAL restarts at about 1000 pages and the file never grows past that.
    expect(largest).toBeGreaterThan(walBytes(2 * 1000, pageSize));
    // Checkpoints still run: a restarted WAL is rewritten from its start, so the file stops growing
    // near the threshold (plus the frames of the commit that crossed it).
    expect(largest).toBeLessThanOrEqual(walBytes(WAL_CHECKPOINT_PAGES + 16, pageSize));

    // Another process reading meanwhile sees every event, and the chain verifies.
    const reader = new Database(path, { readonly: true });
    try {
      expect(reader.prepare('SELECT count(*) FROM events WHERE incident_id = ?').pluck().get(incident.id)).toBe(notes + 1);
    } finally {
      reader.close();
    }
    expect(await store.verify(incident.id)).toMatchObject({ ok: true, problems: [] });
    await store.close();
    // The last connection to close copies the WAL back and removes it, as before.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = SqliteStore.open(path, { synchronous: 'NORMAL' });
    try {
      expect((await again.verify(incident.id)).events).toBe(notes + 1);
    } finally {
      await again.close();
    }
  });
});
