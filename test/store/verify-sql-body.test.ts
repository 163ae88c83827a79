// `verify` reads each event as SQLite hands it over (prev_hash and its eventBody text built with
// json_quote, json_valid's word on its data, a page of rows as one text) and fetches the other columns
// only when needed: on a real
// store file the verdict must be the one every column read through ChainStretch.row gives, for any
// text the columns hold and any damage, and a column SQLite cannot quote must not crash it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ChainStretch, eventBody, eventHash, GENESIS_HASH, summarize, type EventRow } from '../../src/store/chain.js';
import { SqliteDatabase } from '../../src/store/sqlite/database.js';
import { PAGE_SQL, walkStretch } from '../../src/store/sqlite/stretch.js';

const ID = 'INC-20261125-007';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Awkward text: quotes, backslashes, every control character, U+2028/9, U+007F, astral, non-Latin. */
const AWKWARD = [
  'plain',
  'say "hi" \\ back\\slash',
  Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join(''),
  'line\u2028sep\u2029para\u007f del',
  'emoji 😀 ✓ ünïcode 日本語',
  '</script>\'single\'',
];

/**
 * A real store file (ir's migrations), its event rows written raw so every text column can hold
 * awkward text and origin, recorded_at and the state digest are present on some rows and absent on
 * others; every hash is the one ir computes. Returns the database, open, with the triggers dropped.
 */
function store(mutate: (i: number, row: Omit<EventRow, 'prev_hash' | 'hash'>) => void = () => {}, rows = 3000): Database.Database {
  const dir = mkdtempSync(join(tmpdir(), 'ir-sqlbody-'));
  dirs.push(dir);
  const path = join(dir, 'ir.db');
  SqliteDatabase.open(path).close();
  const db = new Database(path);
  db.exec('DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete');
  db.prepare(`INSERT INTO incidents (id, state, severity, declared_at, resolved_at, doc, head_seq, head_hash) VALUES (?, 'investigating', 'SEV-2', '2026-11-25T01:00:00.000Z', NULL, '{}', 0, ?)`).run(ID, GENESIS_HASH);
  const insert = db.prepare(`INSERT INTO events (seq, incident_id, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  let prev = GENESIS_HASH;
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const text = AWKWARD[i % AWKWARD.length];
      const at = new Date(Date.UTC(2026, 10, 25, 1, 0, 0, i)).toISOString();
      const row = {
        seq: 10 + i * 3,
        incident_id: ID,
        at,
        type: i === 0 ? 'incident.declared' : i % 97 === 0 ? 'incident.role_assigned' : i % 7 ? 'note.added' : `custom.${text}`,
        actor: i % 5 ? 'bob' : `ali${text}ce`,
        data: JSON.stringify(i === 0 ? { title: text, severity: 'SEV-2' } : i % 97 === 0 ? { role: 'scribe', person: `p${text}` } : { text, n: i }),
        state_sha256: i % 4 === 0 ? null : i % 4 === 1 ? 'a'.repeat(64) : text,
        origin: i % 3 === 0 ? null : `host-${text}/inst`,
        recorded_at: i % 11 === 0 ? at : null,
      };
      mutate(i, row);
      const hash = eventHash(prev, row);
      insert.run(row.seq, row.incident_id, row.at, row.type, row.actor, row.data, prev, hash, row.state_sha256, row.origin, row.recorded_at);
      prev = hash;
    }
  })();
  // The runs these rows form, which ir records as it appends (migration 11) and a raw writer must record itself.
  db.exec(`INSERT OR IGNORE INTO event_runs (seq, incident_id) SELECT seq, incident_id FROM (SELECT seq, incident_id, lag(incident_id) OVER (ORDER BY seq) AS before FROM events) WHERE before IS NOT incident_id`);
  return db;
}

/** The stretch from seq `from` as the plain columns give it, row by row (the way verify read them before). */
function plainWalk(db: Database.Database, opts: ConstructorParameters<typeof ChainStretch>[1], from = 0) {
  const s = new ChainStretch(ID, opts);
  const rows = db.prepare(`SELECT seq, at, type, actor, data, prev_hash, hash, state_sha256, origin, recorded_at FROM events WHERE incident_id = ? AND seq >= ? ORDER BY seq`).raw(true).all(ID, from) as Parameters<ChainStretch['row']>[];
  for (const r of rows) s.row(...r);
  return summarize(s);
}

function sqlWalk(db: Database.Database, opts: ConstructorParameters<typeof ChainStretch>[1], from = 0) {
  const s = new ChainStretch(ID, opts);
  walkStretch(db, ID, from, Number.MAX_SAFE_INTEGER, s);
  return summarize(s);
}

/** Row i's seq. */
const seqOf = (i: number) => 10 + 3 * i;

/** The stretches verify walks: the first (folding) from the start, later ones (keeping few or many projected rows) from anywhere. */
function sameAsPlain(db: Database.Database, name: string, problem: boolean) {
  const walks: [ConstructorParameters<typeof ChainStretch>[1], number][] = [
    [{ start: true, fold: true }, 0],
    [{ start: false, fold: false, keep: 10 }, 0],
    [{ start: false, fold: false, keep: 4096 }, seqOf(1234)],
  ];
  for (const [opts, from] of walks) {
    const plain = plainWalk(db, opts, from);
    if (opts.start) expect(plain.problem !== undefined, name).toBe(problem);
    expect(sqlWalk(db, opts, from), `${name}, ${JSON.stringify(opts)} from ${from}`).toEqual(plain);
  }
}

describe('the event body built by SQLite', () => {
  it('is eventBody byte for byte for every character JSON.stringify may meet', () => {
    const db = new Database(':memory:');
    const quote = db.prepare('SELECT json_quote(?)').pluck();
    const differs: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      if (c >= 0xd800 && c < 0xe000) continue; // a lone surrogate cannot be stored as text
      const s = `a${String.fromCharCode(c)}b`;
      if (quote.get(s) !== JSON.stringify(s)) differs.push(c.toString(16));
    }
    expect(differs).toEqual([]);
    db.close();
  });

  it('verifies a chain of awkward text as the plain columns do, over many pages', () => {
    const db = store();
    sameAsPlain(db, 'intact', false);
    // Every page is read from its text: no row falls back to the plain columns.
    const plainRows = vi.spyOn(ChainStretch.prototype, 'row');
    try {
      expect(sqlWalk(db, { start: true, fold: true }).events).toBe(3000);
      expect(plainRows).not.toHaveBeenCalled();
    } finally {
      plainRows.mockRestore();
    }
    expect(plainWalk(db, { start: true, fold: true }).events).toBe(3000);
    expect(plainWalk(db, { start: true, fold: true }).derived?.roles).toBeDefined();
    // Row by row, a page's text holds seq with json_valid's word after it, hash, prev_hash, and prev_hash followed by the text eventBody builds.
    const [count, text] = db.prepare(PAGE_SQL).raw(true).get({ id: ID, lo: 0, hi: Number.MAX_SAFE_INTEGER, qid: JSON.stringify(ID) }) as [number, string];
    const fields = text.split('\x1f');
    const rows = db.prepare(`SELECT * FROM events WHERE incident_id = ? ORDER BY seq`).all(ID) as EventRow[];
    expect(count).toBe(3000);
    expect(fields.length).toBe(4 * 3000);
    const page = rows.map((_, i) => fields.slice(4 * i, 4 * i + 4));
    expect(page).toEqual(rows.map((r) => [`${r.seq}1`, r.hash, r.prev_hash, r.prev_hash + eventBody(r)]));
    db.close();
  });

  it('data SQLite cannot vouch for is judged by JSON.parse: rewritten with every hash after it, as a forger would', () => {
    const cases: [string, (i: number, row: { data: string }) => void, boolean][] = [
      ['data that is not JSON', (i, row) => i === 1700 && (row.data = '{"text": unquoted'), true],
      ['JSON nested deeper than SQLite reads', (i, row) => i === 1701 && (row.data = `${'['.repeat(3000)}${']'.repeat(3000)}`), false],
      ['JSON followed by a NUL', (i, row) => i === 1702 && (row.data = '{"text":"x"}\u0000'), true],
      ['a NUL inside a string', (i, row) => i === 1703 && (row.data = '{"text":"a\u0000b"}'), true],
      ['data that is JSON but not what the record is made of', (i, row) => i === 97 * 20 && (row.data = 'null'), true],
    ];
    for (const [name, mutate, problem] of cases) {
      const db = store(mutate);
      sameAsPlain(db, name, problem);
      db.close();
    }
  });

  it('finds the same first problem as the plain columns for each kind of damage', () => {
    const cases: [string, string][] = [
      ['data edited', `UPDATE events SET data = replace(data, 'plain', 'plaiN') WHERE seq = (SELECT seq FROM events WHERE data LIKE '%plain%' LIMIT 1 OFFSET 200)`],
      ['an awkward actor edited', `UPDATE events SET actor = actor || char(10) WHERE seq = ${seqOf(1500)}`],
      ['origin removed', `UPDATE events SET origin = NULL WHERE seq = ${seqOf(1501)}`],
      ['digest edited', `UPDATE events SET state_sha256 = 'b' || substr(state_sha256, 2) WHERE seq = ${seqOf(1502)}`],
      ['a role assignment edited', `UPDATE events SET data = replace(data, 'scribe', 'lead') WHERE seq = ${seqOf(97 * 25)}`],
      ['an event removed', `DELETE FROM events WHERE seq = ${seqOf(2222)}`],
      ['an event removed where a later stretch starts', `DELETE FROM events WHERE seq = ${seqOf(1233)}`],
      ['prev_hash edited', `UPDATE events SET prev_hash = upper(prev_hash) WHERE seq = ${seqOf(2500)}`],
      ['prev_hash with a NUL after it', `UPDATE events SET prev_hash = prev_hash || char(0) WHERE seq = ${seqOf(2501)}`],
      ['prev_hash with a character not ASCII', `UPDATE events SET prev_hash = 'é' || substr(prev_hash, 2) WHERE seq = ${seqOf(2502)}`],
      ['prev_hash one character longer', `UPDATE events SET prev_hash = prev_hash || '{' WHERE seq = ${seqOf(2503)}`],
      ['prev_hash of the first row of a later stretch edited', `UPDATE events SET prev_hash = prev_hash || 'x' WHERE seq = ${seqOf(1234)}`],
      ['prev_hash holding the page text\'s separator', `UPDATE events SET prev_hash = substr(prev_hash, 1, 10) || char(31) || substr(prev_hash, 11) WHERE seq = ${seqOf(2504)}`],
      ['hash holding the page text\'s separator', `UPDATE events SET hash = hash || char(31) || '1' WHERE seq = ${seqOf(2505)}`],
      // The newest event ends the last page: no row after it would show its fields out of step.
      ['hash of the newest event holding the separator', `UPDATE events SET hash = hash || char(31) || 'x' WHERE seq = ${seqOf(2999)}`],
      ['prev_hash of the first row of a later stretch holding the separator', `UPDATE events SET prev_hash = char(31) || prev_hash WHERE seq = ${seqOf(1234)}`],
      ['prev_hash made a BLOB', `UPDATE events SET prev_hash = CAST(prev_hash AS BLOB) WHERE seq = ${seqOf(2600)}`],
      ['hash made a BLOB', `UPDATE events SET hash = CAST(hash AS BLOB) WHERE seq = ${seqOf(2601)}`],
      ['data made a BLOB', `UPDATE events SET data = CAST(data AS BLOB) WHERE seq = ${seqOf(1800)}`],
      ['actor made a BLOB', `UPDATE events SET actor = CAST(actor AS BLOB) WHERE seq = ${seqOf(2900)}`],
      ['the declaration removed', `DELETE FROM events WHERE seq = ${seqOf(0)}`],
    ];
    for (const [name, damage] of cases) {
      const db = store();
      db.exec(damage);
      sameAsPlain(db, name, true);
      db.close();
    }
  });

  it('a row whose text SQLite cannot quote (a BLOB) is judged from the plain columns, the pages after it too', () => {
    const db = store();
    // Same bytes, stored as a BLOB: the plain columns hand it over as a Buffer.
    db.exec(`UPDATE events SET data = CAST(data AS BLOB) WHERE seq = ${seqOf(100)}`);
    const s = new ChainStretch(ID, { start: true, fold: true });
    expect(() => walkStretch(db, ID, 0, Number.MAX_SAFE_INTEGER, s)).not.toThrow();
    expect(s.events).toBe(3000);
    expect(s.problem).toEqual({ seq: seqOf(100), rank: 2, reason: 'contents do not match its hash (the event was modified)' });
    db.close();
  });
});
