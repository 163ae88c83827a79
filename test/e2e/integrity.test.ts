// The whole record is under the chain: an edited incident row, a cut tail and a deleted incident are
// caught (the last two only against a head kept elsewhere), and the store's files are private,
// durable and refused when a newer ir wrote them.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, ROOT, sqlite, tempHome } from '../helpers/cli.js';


interface VerifyDoc {
  ok: boolean;
  problems: { incident: string; seq: number | null; reason: string }[];
  anchors: { head: string; incident: string | null; ok: boolean; reason: string }[];
}

const isRoot = process.getuid?.() === 0;

/** A tmpfs of `size` mounted at a new directory (root only); undefined with the reason otherwise. */
function tmpfs(size: string, opts: string[] = []): { dir: string; unmount: () => void } | string {
  if (!isRoot) return 'not root: cannot mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'ir-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, 'mode=0700', ...opts].join(','), 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('the incident record is derived from its events', () => {
  let home: string;
  let cleanup: () => void;
  let db: string;
  let id: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    db = join(home, 'ir.db');
    id = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'Checkout errors', '-s', 'SEV-1', '--service', 'checkout'])).id;
    expect(ir(home, ['ack']).code).toBe(0);
    expect(ir(home, ['note', 'pool exhausted']).code).toBe(0);
  });
  afterAll(() => cleanup());

  it('an edit of the incident row alone fails --verify naming the field, and reports keep the true value', () => {
    // incidents has no guard trigger: an attacker with the file needs no DROP to do this.
    sqlite(db, `UPDATE incidents SET doc = json_set(doc, '$.severity', 'SEV-4'), severity = 'SEV-4' WHERE id = '${id}'`);
    const r = ir(home, ['timeline', '--verify', '--json']);
    expect(r.code).toBe(1);
    const doc = json<VerifyDoc>(r);
    expect(doc.problems).toEqual([expect.objectContaining({ incident: id, reason: expect.stringMatching(/severity is "SEV-4" in the record but "SEV-1" by its events/) })]);
    const human = ir(home, ['timeline', '--verify']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`TAMPERED ${id}: .*severity`));
    // What people read comes from the events, not the forged row.
    expect(json<{ severity: string }>(ir(home, ['show', '--json'])).severity).toBe('SEV-1');
    const pm = ir(home, ['postmortem', '--draft']);
    expect(pm.code).toBe(0);
    expect(pm.stdout).toMatch(/severity: SEV-1/);
    expect(pm.stdout).not.toMatch(/SEV-4/);
    // A later write decides on the events, and its event carries the true "from".
    expect(ir(home, ['severity', 'SEV-2', '--reason', 'contained to EU']).code).toBe(0);
    const events = json<{ events: { type: string; data: { from?: string } }[] }>(ir(home, ['timeline', '--json'])).events;
    expect(events.find((e) => e.type === 'incident.severity_changed')?.data.from).toBe('SEV-1');
  });

  it('a field only in the cached document (title, roles, acknowledgement) is named too', () => {
    const { home: h, cleanup: c } = tempHome();
    try {
      const i = json<{ id: string }>(ir(h, ['declare', '--json', '-t', 'Real title', '-s', 'SEV-2'])).id;
      ir(h, ['assign', 'commander', 'alice']);
      const d = join(h, 'ir.db');
      sqlite(d, `UPDATE incidents SET doc = json_set(doc, '$.roles.commander', 'mallory') WHERE id = '${i}'`);
      const r = json<VerifyDoc>(ir(h, ['timeline', '--verify', '--json']));
      expect(r.ok).toBe(false);
      expect(r.problems[0].reason).toMatch(/roles\.commander is "mallory" in the record but "alice" by its events/);
      sqlite(d, `UPDATE incidents SET doc = json_set(doc, '$.roles.commander', 'alice', '$.acknowledgedAt', '2026-01-01T00:00:00.000Z') WHERE id = '${i}'`);
      expect(json<VerifyDoc>(ir(h, ['timeline', '--verify', '--json'])).problems[0].reason).toMatch(/acknowledgedAt is "2026-01-01T00:00:00.000Z" in the record but absent by its events/);
      // Metrics read the events too: no acknowledgement was ever recorded.
      expect(json<{ incidents: number; mtta: { count: number } }>(ir(h, ['metrics', '--json'])).mtta?.count ?? 0).toBe(0);
    } finally {
      c();
    }
  });
});

describe('a store written before events carried the record digest', () => {
  it('upgrades in place: old events verify, new ones chain on, and the record is folded from both', async () => {
    const { home, cleanup } = tempHome();
    try {
      const db = join(home, 'ir.db');
      const { default: Database } = await import('better-sqlite3');
      const { MIGRATIONS } = await import(join(ROOT, 'dist', 'store', 'migrations.js'));
      const { eventHash, GENESIS_HASH } = await import(join(ROOT, 'dist', 'store', 'chain.js'));
      const { canonicalJson } = await import(join(ROOT, 'dist', 'store', 'canonical.js'));
      const old = new Database(db);
      for (const m of MIGRATIONS.slice(0, 3)) old.exec(m);
      old.pragma('user_version = 3');
      const row = { seq: 1, incident_id: 'INC-20261101-001', at: '2026-11-01T02:00:00.000Z', type: 'incident.declared', actor: 'old-ir', data: canonicalJson({ title: 'From schema 3', severity: 'SEV-2' }) };
      const hash = eventHash(GENESIS_HASH, row);
      old.prepare(`INSERT INTO incidents VALUES (?, 'investigating', 'SEV-2', ?, NULL, '{}', 1, ?)`).run(row.incident_id, row.at, hash);
      old.prepare(`INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(row.seq, row.incident_id, row.at, row.type, row.actor, row.data, GENESIS_HASH, hash);
      old.close();
      expect(ir(home, ['note', 'after the upgrade']).code).toBe(0);
      expect(ir(home, ['severity', 'SEV-1', '--reason', 'worse']).code).toBe(0);
      expect(ir(home, ['timeline', '--verify']).code).toBe(0);
      expect(json<{ title: string; severity: string }>(ir(home, ['show', '--json']))).toMatchObject({ title: 'From schema 3', severity: 'SEV-1' });
    } finally {
      cleanup();
    }
  });
});

describe('a store whose cached records predate the action items in the record', () => {
  it('numbers the next action after the old ones, marks an old one done, and still verifies', async () => {
    const { home, cleanup } = tempHome();
    try {
      const db = join(home, 'ir.db');
      const { default: Database } = await import('better-sqlite3');
      const { MIGRATIONS } = await import(join(ROOT, 'dist', 'store', 'migrations.js'));
      const { eventHash, GENESIS_HASH, recordDigest } = await import(join(ROOT, 'dist', 'store', 'chain.js'));
      const { canonicalJson } = await import(join(ROOT, 'dist', 'store', 'canonical.js'));
      const { applyEvent } = await import(join(ROOT, 'dist', 'core', 'incident.js'));
      const old = new Database(db);
      // Schema 10, as an older ir left it: its trigger recorded the runs of the rows written below
      // (from schema 11 ir records them itself); ir brings the store up to date when it opens it.
      for (const m of MIGRATIONS.slice(0, 10)) old.exec(m);
      old.pragma('user_version = 10');
      // Written as an ir before this change did: each event's digest is of a record without `actions`.
      const id = 'INC-20261101-001';
      const written = [
        { type: 'incident.declared', data: { title: 'Old actions', severity: 'SEV-2' } },
        { type: 'action.added', data: { n: 1, text: 'first' } },
        { type: 'action.added', data: { n: 2, text: 'second' } },
      ];
      let prev = GENESIS_HASH;
      let record: Record<string, unknown> | undefined;
      let cached: Record<string, unknown> = {};
      old.prepare(`INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash) VALUES (?, 'investigating', 'SEV-2', ?, NULL, '{}', 0, ?)`).run(id, '2026-11-01T02:00:00.000Z', GENESIS_HASH);
      written.forEach((e, i) => {
        const at = `2026-11-01T02:0${i}:00.000Z`;
        record = applyEvent(record, { incidentId: id, at, type: e.type, actor: 'old-ir', data: e.data });
        const { actions: _new, ...before } = record!;
        cached = before;
        const row = { seq: i + 1, incident_id: id, at, type: e.type, actor: 'old-ir', data: canonicalJson(e.data), state_sha256: recordDigest(before) };
        const hash = eventHash(prev, row);
        old.prepare(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.seq, id, at, row.type, row.actor, row.data, prev, hash, row.state_sha256);
        prev = hash;
      });
      old.prepare(`UPDATE incidents SET doc = ?, head_seq = 3, head_hash = ? WHERE id = ?`).run(JSON.stringify(cached), prev, id);
      old.close();
      expect(ir(home, ['timeline', '--verify']).code).toBe(0);
      expect(ir(home, ['action', 'add', 'third']).code).toBe(0);
      expect(ir(home, ['action', 'done', '2']).code).toBe(0);
      expect(ir(home, ['action', 'done', '2']).stderr).toMatch(/already done/);
      const added = sqlite(db, `SELECT json_extract(data, '$.n') FROM events WHERE type = 'action.added' ORDER BY seq`).trim().split('\n');
      expect(added).toEqual(['1', '2', '3']);
      expect(ir(home, ['timeline', '--verify']).code).toBe(0);
    } finally {
      cleanup();
    }
  });
});

describe('an anchored chain head', () => {
  let home: string;
  let cleanup: () => void;
  let db: string;
  let id: string;
  let anchor: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    db = join(home, 'ir.db');
    id = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'Anchored', '-s', 'SEV-2'])).id;
    for (const n of ['one', 'two', 'three']) ir(home, ['note', n]);
    const head = ir(home, ['timeline', '--head']);
    expect(head.code).toBe(0);
    anchor = head.stdout.trim();
    expect(anchor).toMatch(/^\d+:[0-9a-f]{64}$/);
    const doc = json<{ incident: string; seq: number; hash: string; head: string }>(ir(home, ['timeline', '--head', '--json']));
    expect(doc).toMatchObject({ incident: id, head: anchor });
    for (const n of ['four', 'five']) ir(home, ['note', n]);
  });
  afterAll(() => cleanup());

  it('verifies while the chain still contains it', () => {
    const r = ir(home, ['timeline', '--verify', '--head', anchor]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/anchored head .* verified: the chain of INC-\S+ still contains the anchored head and 2 later events/);
    expect(ir(home, ['timeline', id, '--verify', '--head', anchor]).code).toBe(0);
  });

  it('a tail cut back past it, with the head pointer moved back, passes plain --verify but not --verify --head', () => {
    const seq = Number(anchor.split(':')[0]);
    const keep = sqlite(db, `SELECT seq || '|' || hash FROM events WHERE incident_id = '${id}' AND seq < ${seq} ORDER BY seq DESC LIMIT 1`).trim().split('|');
    sqlite(
      db,
      `DROP TRIGGER events_append_only_delete;
       DELETE FROM events WHERE incident_id = '${id}' AND seq >= ${seq};
       UPDATE incidents SET head_seq = ${keep[0]}, head_hash = '${keep[1]}', doc = json_set(doc, '$.id', doc ->> '$.id') WHERE id = '${id}';`,
    );
    // What a hash chain alone cannot see: the remaining chain is internally consistent.
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
    const r = ir(home, ['timeline', '--verify', '--head', anchor, '--json']);
    expect(r.code).toBe(1);
    const doc = json<VerifyDoc>(r);
    expect(doc.anchors).toEqual([expect.objectContaining({ head: anchor, ok: false, reason: expect.stringMatching(/no longer in the store/) })]);
  });

  it('a whole incident deleted is caught by its anchor', () => {
    const { home: h, cleanup: c } = tempHome();
    try {
      const i = json<{ id: string }>(ir(h, ['declare', '--json', '-t', 'Soon gone', '-s', 'SEV-3'])).id;
      ir(h, ['note', 'evidence of a mistake']);
      const a = ir(h, ['timeline', '--head']).stdout.trim();
      const d = join(h, 'ir.db');
      // Removed with the runs that located its events (event_runs), or verify would find those empty.
      sqlite(d, `DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE incident_id = '${i}'; DELETE FROM incidents WHERE id = '${i}';
        DROP TRIGGER event_runs_append_only_delete; DELETE FROM event_runs WHERE incident_id = '${i}';`);
      expect(ir(h, ['timeline', '--verify']).code).toBe(0);
      const r = ir(h, ['timeline', i, '--verify', '--head', a]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/no longer in the store/);
    } finally {
      c();
    }
  });

  it('a malformed head is a usage error naming --head', () => {
    const r = ir(home, ['timeline', '--verify', '--head', '12:nothex']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--head "12:nothex": expected SEQ:HASH/);
  });
});

describe('the store files', () => {
  it('ir.db and its -wal and -shm are 0600, and an old 0644 file is tightened', async () => {
    const { home, cleanup } = tempHome();
    const old = process.umask(0o022);
    try {
      expect(ir(home, ['declare', '-t', 'x', '-s', 'SEV-3']).code).toBe(0);
      const db = join(home, 'ir.db');
      expect(statSync(db).mode & 0o777).toBe(0o600);
      // Hold the database open as ir does, so the WAL and shared-memory files exist to be looked at.
      const { SqliteDatabase } = await import(join(ROOT, 'dist', 'store', 'sqlite', 'database.js'));
      const store = SqliteDatabase.open(db);
      store.append(store.listIncidents()[0].id, () => ({ type: 'note.added', data: { text: 'held open' } }), new Date(), 't');
      for (const f of [db, `${db}-wal`, `${db}-shm`]) expect({ f, mode: (statSync(f).mode & 0o777).toString(8) }).toEqual({ f, mode: '600' });
      // Durable on power loss: WAL with synchronous=FULL (2).
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      store.close();
      execFileSync('chmod', ['0644', db]);
      expect(ir(home, ['list']).code).toBe(0);
      expect(statSync(db).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
      cleanup();
    }
  });

  it('a database written by a newer ir is refused, and left as it was', () => {
    const { home, cleanup } = tempHome();
    try {
      expect(ir(home, ['declare', '-t', 'x', '-s', 'SEV-3']).code).toBe(0);
      const db = join(home, 'ir.db');
      sqlite(db, 'PRAGMA user_version = 99');
      const before = sqlite(db, 'SELECT count(*) FROM events').trim();
      const r = ir(home, ['note', 'should not land']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^ir: .*ir\.db was written by a newer ir \(schema 99; this ir knows schema \d+\): upgrade ir$/);
      expect(sqlite(db, 'SELECT count(*) FROM events').trim()).toBe(before);
      expect(sqlite(db, 'PRAGMA user_version').trim()).toBe('99');
    } finally {
      cleanup();
    }
  });

  it('IR_HOME that is a file, and --out that is a directory: exit 2, one line, no internal error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ir-hygiene-'));
    try {
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      for (const home of [file, join(file, 'sub')]) {
        const r = ir(home, ['list']);
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/cannot open the store .*a file stands where a directory is needed/);
      }
      const home = join(dir, 'home');
      expect(ir(home, ['declare', '-t', 'x', '-s', 'SEV-3']).code).toBe(0);
      const out = join(dir, 'reports');
      mkdirSync(out);
      const r = ir(home, ['postmortem', '--draft', '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`ir: ${out} is a directory: name a file`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('on a read-only or full disk (tmpfs)', () => {
    it('a read-only home: exit 2 with the cause in one line', (ctx) => {
      const fs = tmpfs('1m', ['ro']);
      if (typeof fs === 'string') return ctx.skip(fs);
      try {
        for (const home of [fs.dir, join(fs.dir, 'sub')]) {
          const r = ir(home, ['list']);
          expect(r.code).toBe(2);
          expect(r.stderr.trim().split('\n')).toHaveLength(1);
          expect(r.stderr).toMatch(/cannot open the store .*(read-only|cannot be created)/);
          expect(r.stderr).not.toMatch(/internal error/);
        }
      } finally {
        fs.unmount();
      }
    });

    it('a full disk under the store: exit 1 "disk full" when a write fails, exit 2 when the store cannot open; nothing recorded is lost', (ctx) => {
      const fs = tmpfs('1m');
      if (typeof fs === 'string') return ctx.skip(fs);
      try {
        const home = fs.dir;
        expect(ir(home, ['declare', '-t', 'disk', '-s', 'SEV-3']).code).toBe(0);
        expect(ir(home, ['note', 'before the disk filled']).code).toBe(0);
        const freeKiB = () => Number(execFileSync('df', ['-k', '--output=avail', home], { encoding: 'utf8' }).trim().split('\n')[1]);
        // Leave 60 KiB: the store opens, but a 100 KB note cannot be committed.
        spawnSync('dd', ['if=/dev/zero', `of=${join(home, 'filler')}`, 'bs=1k', `count=${freeKiB() - 60}`], { stdio: 'ignore' });
        const r = ir(home, ['note', 'x'.repeat(100_000)]);
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toBe(`ir: disk full writing ${join(home, 'ir.db')}: free some space; what was recorded before this is kept`);
        // Nothing left: SQLite cannot even map its shared memory.
        spawnSync('dd', ['if=/dev/zero', `of=${join(home, 'filler2')}`, 'bs=1k'], { stdio: 'ignore' });
        const full = ir(home, ['note', 'small']);
        expect(full.code).toBe(2);
        expect(full.stderr.trim().split('\n')).toHaveLength(1);
        expect(full.stderr).toMatch(/cannot open the store .*: disk full/);
        rmSync(join(home, 'filler'));
        rmSync(join(home, 'filler2'));
        const v = ir(home, ['timeline', '--verify']);
        expect(v.code).toBe(0);
        expect(ir(home, ['timeline']).stdout).toContain('before the disk filled');
      } finally {
        fs.unmount();
      }
    });
  });
});
