// Editing the database behind ir's back is caught by `ir timeline --verify`, which names the event.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, sqlite, tempHome } from '../helpers/cli.js';

describe('tamper evidence', () => {
  let home: string;
  let cleanup: () => void;
  let db: string;
  let id: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    db = join(home, 'ir.db');
    id = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'tamper target', '-s', 'SEV-2'])).id;
    for (const n of ['first note', 'second note', 'the note someone regrets', 'last note']) ir(home, ['note', n]);
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
  });
  afterAll(() => cleanup());

  it('refuses UPDATE and DELETE on events through SQL', () => {
    expect(() => sqlite(db, `UPDATE events SET actor = 'mallory' WHERE seq = 2`)).toThrow(/append-only/);
    expect(() => sqlite(db, `DELETE FROM events WHERE seq = 2`)).toThrow(/append-only/);
  });

  it('one changed byte in one event: exit 1 naming that event', () => {
    const row = sqlite(db, `SELECT seq, data FROM events WHERE data LIKE '%regrets%'`).trim();
    const seq = Number(row.split('|')[0]);
    // Drop the guard as an attacker with the file would, then flip one byte: "regrets" → "regretS".
    sqlite(db, `DROP TRIGGER events_append_only_update; UPDATE events SET data = replace(data, 'regrets', 'regretS') WHERE seq = ${seq};`);
    const human = ir(home, ['timeline', '--verify']);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${id} event ${seq}`);
    expect(human.stdout).toMatch(/modified/);
    const doc = json<{ ok: boolean; problems: { incident: string; seq: number }[] }>(ir(home, ['timeline', id, '--verify', '--json']));
    expect(doc.ok).toBe(false);
    expect(doc.problems).toEqual([expect.objectContaining({ incident: id, seq })]);
  });

  it('a removed event breaks the link of the one after it', () => {
    const { home: h2, cleanup: c2 } = tempHome();
    try {
      const id2 = json<{ id: string }>(ir(h2, ['declare', '--json', '-t', 'x', '-s', 'SEV-3'])).id;
      ir(h2, ['note', 'a']);
      ir(h2, ['note', 'b']);
      ir(h2, ['note', 'c']);
      const db2 = join(h2, 'ir.db');
      sqlite(db2, `DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE seq = 3;`);
      const r = ir(h2, ['timeline', '--verify', '--json']);
      expect(r.code).toBe(1);
      expect(json<{ problems: { incident: string; seq: number; reason: string }[] }>(r).problems[0]).toMatchObject({ incident: id2, seq: 4 });
      sqlite(db2, `DELETE FROM events WHERE seq = 4;`);
      // Removing from the end is caught by the incident's recorded head.
      sqlite(db2, `DELETE FROM events WHERE seq = (SELECT max(seq) FROM events);`);
      const tail = json<{ problems: { reason: string }[] }>(ir(h2, ['timeline', '--verify', '--json']));
      expect(tail.problems[0].reason).toMatch(/removed from the end/);
    } finally {
      c2();
    }
  });
});
