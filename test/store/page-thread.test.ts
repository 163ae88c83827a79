// A long incident's pages read on a helper thread (src/store/sqlite/page-thread.ts): SQLite writes
// each page as JSON text there, and this thread parses it. Every event must come out exactly as the
// rows read on one thread make it, whatever a stored text holds (data that is not JSON, a JSON string,
// nesting past SQLite's depth limit, odd characters), across runs of other incidents' events, with
// and without hashes; and a helper that fails, or sends a page that does not read, must change
// nothing but the thread the rest is read on. The build's modules are used (dist/): the helper
// thread's module is built next to them.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/core/incident.js';
import type { IterateOptions } from '../../src/store/types.js';
import { ROOT, irAsync, tempHome } from '../helpers/cli.js';

interface DistStore {
  declare(input: Record<string, unknown>, at: Date, actor: string): Promise<{ incident: { id: string } }>;
  append(id: string, decide: () => unknown, at: Date, actor: string): Promise<unknown>;
  eventPages(id: string, opts?: IterateOptions): AsyncIterable<TimelineEvent[]> & { read?: { helper: number; here: number } };
  close(): Promise<void>;
}

/** The built store (dist/) opened on `path`: its helper thread's module is built next to it. */
async function openStore(path: string): Promise<DistStore> {
  const { SqliteStore } = (await import(pathToFileURL(join(ROOT, 'dist', 'store', 'sqlite', 'store.js')).href)) as { SqliteStore: { open(path: string): DistStore } };
  return SqliteStore.open(path);
}

const AT = new Date('2026-11-25T03:00:00.000Z');
/** Stored data texts a writer other than ir could leave, each as the one-thread read makes it. */
const DEEP = `${'['.repeat(1500)}${']'.repeat(1500)}`;
const ODD_DATA = [
  '{bad json',
  '"just a string"',
  '123',
  'null',
  '[]',
  '  {"padded" : true }  ',
  '{"a":1,}',
  '{"escapes":"\\u00e9\\ud800\\n\\"],[{","big":12345678901234567890,"float":1.50,"exp":1E5}',
  '{"dup":1,"dup":2,"__proto__":{"x":1}}',
  '{"line":"a\u2028b\u2029c","emoji":"🚨 p99 ✓","tab":"x\ty"}',
  DEEP,
  '',
  '{"text":"], [1, {"}',
  'not json at all, with "quotes" and \\ backslashes',
  // Three texts, none of them JSON, that joined with commas read as three values all the same:
  // a page whose data is not checked event by event would hand out 1, 2 and [3,4].
  '1,2',
  '[3',
  '4]',
];

let store: DistStore;
let dir: string;
let incident: string;
const env = process.env;

/** The incident's events, read with IR_PAGE_THREAD_MIN=min (and IR_TEST_PAGE_HELPER when given), with how its pages were read. */
async function read(min: string, test: string | undefined, opts: IterateOptions) {
  const saved = { min: env.IR_PAGE_THREAD_MIN, test: env.IR_TEST_PAGE_HELPER };
  env.IR_PAGE_THREAD_MIN = min;
  if (test) env.IR_TEST_PAGE_HELPER = test;
  else delete env.IR_TEST_PAGE_HELPER;
  try {
    const pages = store.eventPages(incident, opts);
    const events: TimelineEvent[] = [];
    for await (const page of pages) {
      expect(page.length).toBeGreaterThan(0);
      expect(page.length).toBeLessThanOrEqual(opts.batch ?? 500);
      events.push(...page);
    }
    return { events, read: pages.read };
  } finally {
    env.IR_PAGE_THREAD_MIN = saved.min;
    if (saved.test === undefined) delete env.IR_TEST_PAGE_HELPER;
    else env.IR_TEST_PAGE_HELPER = saved.test;
    if (saved.min === undefined) delete env.IR_PAGE_THREAD_MIN;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ir-pages-'));
  const path = join(dir, 'ir.db');
  const first = await openStore(path);
  incident = (await first.declare({ title: 'pages', severity: 'SEV-2' }, AT, 'alice')).incident.id;
  const other = (await first.declare({ title: 'between', severity: 'SEV-3' }, AT, 'bob')).incident.id;
  await first.close();
  // Rows written straight into the table (reads do not check the chain): runs of this incident's
  // events with the other's between them (short gaps and long ones, so reads cross spans), and now
  // and then a data text that ir would not write.
  const db = new Database(path);
  const insert = db.prepare('INSERT INTO events (incident_id, at, type, actor, data, prev_hash, hash, origin, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let k = 0; k < 1200; k++) {
      if (k % 97 === 0) for (let i = 0; i < (k % 2 ? 3 : 300); i++) insert.run(other, AT.toISOString(), 'note.added', 'bob', JSON.stringify({ text: `other ${k}.${i}` }), 'p', 'h', null, null);
      const at = `2026-11-25T03:${String(k % 60).padStart(2, '0')}:00.000Z`;
      const [origin, recordedAt] = k % 4 ? [null, null] : ['laptop-7', '2026-11-25T04:00:00.000Z'];
      if (k % 50 === 7) insert.run(incident, at, 'note.added', k % 3 ? 'carol "c" \\' : 'dave', ODD_DATA[((k / 50) | 0) % ODD_DATA.length], `p${k}`, `h${k}`, origin, recordedAt);
      else insert.run(incident, at, 'note.added', k % 5 ? 'alice' : 'zoë', JSON.stringify({ text: `note ${k}: ✓ "${'x'.repeat(k % 40)}"`, n: k, nested: { list: [k, null, true, 'é'] } }), `p${k}`, `h${k}`, origin, recordedAt);
    }
    for (const text of ODD_DATA) insert.run(incident, '2026-11-25T05:00:00.000Z', 'weird', 'eve', text, 'p', 'h', 'box', null);
  })();
  // The runs these rows form, which ir records as it appends (migration 11) and a raw writer must record itself.
  db.exec(`INSERT OR IGNORE INTO event_runs (seq, incident_id) SELECT seq, incident_id FROM (SELECT seq, incident_id, lag(incident_id) OVER (ORDER BY seq) AS before FROM events) WHERE before IS NOT incident_id`);
  db.close();
  store = await openStore(path);
}, 120_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pages read on a helper thread', () => {
  for (const without of [[], ['prevHash'], ['prevHash', 'hash']] as IterateOptions['without'][]) {
    it(`are the events one thread reads, every stored text alike (without ${JSON.stringify(without)})`, async () => {
      const opts = { batch: 37, without };
      const here = await read('999999999', undefined, opts);
      expect(here.read).toBeUndefined();
      expect(here.events.length).toBe(1200 + 1 + ODD_DATA.length);
      const there = await read('0', 'all', opts);
      // Every page came from the helper thread.
      expect(there.read).toEqual({ helper: Math.ceil(here.events.length / 37), here: 0 });
      expect(there.events).toStrictEqual(here.events);
      // Key order and null against absent too.
      expect(there.events.map((e) => JSON.stringify(e))).toEqual(here.events.map((e) => JSON.stringify(e)));
      // The odd texts are in there, read as the one-thread read reads them.
      const weird = there.events.filter((e) => e.type === 'weird').map((e) => e.data);
      expect(weird[0]).toEqual({ unreadable: '{bad json' });
      expect(weird[1]).toBe('just a string');
      expect(weird[10]).toHaveLength(1);
      expect(weird[13]).toEqual({ unreadable: ODD_DATA[13] });
    }, 60_000);
  }

  it("the events whose data is not JSON are in schema 12's index, whoever wrote them; on a store without it the helper checks every event and reads the same", async () => {
    const db = new Database(join(dir, 'ir.db'));
    const copy = join(dir, 'no-index.db');
    try {
      const indexed = db.prepare('SELECT seq FROM events INDEXED BY events_odd_data WHERE NOT json_valid(data) ORDER BY seq').pluck().all();
      // As the helper's check of each event (pageSql) judges them; rows written straight into the table (beforeAll), none of them by ir.
      expect(indexed).toEqual(db.prepare('SELECT seq FROM events NOT INDEXED WHERE NOT json_valid(data, 1) ORDER BY seq').pluck().all());
      expect(indexed.length).toBeGreaterThan(10);
      db.exec(`VACUUM INTO '${copy}'`);
    } finally {
      db.close();
    }
    const raw = new Database(copy);
    raw.exec('DROP INDEX events_odd_data');
    raw.close();
    // Its schema is this ir's, so opening it adds nothing back.
    const withoutIndex = await openStore(copy);
    const saved = store;
    const opts = { batch: 37, without: ['prevHash', 'hash'] as IterateOptions['without'] };
    let there: Awaited<ReturnType<typeof read>>;
    try {
      store = withoutIndex;
      there = await read('0', 'all', opts);
    } finally {
      store = saved;
      await withoutIndex.close();
    }
    expect(there.read!.here).toBe(0);
    expect(there.events).toStrictEqual((await read('999999999', undefined, opts)).events);
  }, 60_000);

  it('a helper that fails after its first page, or sends one that does not read, leaves the rest to this thread', async () => {
    const opts = { batch: 100, without: ['prevHash'] as IterateOptions['without'] };
    const here = await read('999999999', undefined, opts);
    const failed = await read('0', 'fail', opts);
    expect(failed.read).toEqual({ helper: 1, here: Math.ceil((here.events.length - 100) / 100) });
    expect(failed.events).toStrictEqual(here.events);
    const garbled = await read('0', 'garble', opts);
    expect(garbled.read!.helper).toBe(1);
    expect(garbled.read!.here).toBeGreaterThan(0);
    expect(garbled.events).toStrictEqual(here.events);
  }, 60_000);

  it('a reader that stops early stops the helper, and reading again starts afresh', async () => {
    env.IR_PAGE_THREAD_MIN = '0';
    env.IR_TEST_PAGE_HELPER = 'all';
    try {
      const pages = store.eventPages(incident, { batch: 10 });
      for await (const page of pages) {
        expect(page[0].type).toBe('incident.declared');
        break;
      }
      expect(pages.read).toEqual({ helper: 1, here: 0 });
    } finally {
      delete env.IR_PAGE_THREAD_MIN;
      delete env.IR_TEST_PAGE_HELPER;
    }
    expect((await read('0', 'all', { batch: 500 })).events.length).toBe(1200 + 1 + ODD_DATA.length);
  }, 60_000);
});

/**
 * The report of `id` read on one thread and with every page from the helper thread: the same text.
 * Also the one-thread run's stderr (IR_DEBUG), which says nothing of a helper thread.
 */
async function both(home: string, id: string, env: Record<string, string> = {}) {
  const one = await irAsync(home, ['postmortem', id, '--out', 'one.md'], { cwd: home, env: { ...env, IR_PAGE_THREAD_MIN: '999999999', IR_DEBUG: '1' } });
  expect(one.code, one.stderr).toBe(0);
  const two = await irAsync(home, ['postmortem', id, '--out', 'two.md'], { cwd: home, env: { ...env, IR_PAGE_THREAD_MIN: '0', IR_TEST_PAGE_HELPER: 'all', IR_DEBUG: '1' } });
  expect(two.code, two.stderr).toBe(0);
  const report = readFileSync(join(home, 'one.md'), 'utf8');
  expect(readFileSync(join(home, 'two.md'), 'utf8')).toBe(report);
  const m = /postmortem: (\d+) pages read on a helper thread, 0 on this one/.exec(two.stderr);
  expect(m, two.stderr).not.toBeNull();
  return { report, pages: Number(m![1]), oneStderr: one.stderr };
}

describe('ir postmortem with its pages read on a helper thread', () => {
  it('writes the very report one thread writes, secrets replaced alike', async () => {
    const { home, cleanup } = tempHome();
    try {
    const s = await openStore(join(home, 'ir.db'));
    let id: string;
    try {
      id = (await s.declare({ title: 'long one', severity: 'SEV-1', service: 'checkout' }, AT, 'alice')).incident.id;
      for (let k = 0; k < 30; k++) {
        await s.append(
          id,
          () =>
            Array.from({ length: 100 }, (_, i) =>
              k === 17 && i === 50 ? { type: 'note.added', data: { text: 'rotated: password=hunter2-very-secret' } } : { type: 'note.added', data: { text: `note ${k}.${i}` } },
            ),
          new Date(AT.getTime() + k * 60_000),
          k % 2 ? 'alice' : 'bob',
        );
      }
      // One written with an earlier time than those before it: the report reads the timeline twice.
      await s.append(id, () => ({ type: 'note.added', data: { text: 'late: password=correct-horse-battery' } }), new Date(AT.getTime() + 90_000), 'carol');
      await s.append(id, () => ({ type: 'incident.resolved', data: { summary: 'done' } }), new Date(AT.getTime() + 40 * 60_000), 'alice');
    } finally {
      await s.close();
    }
    const { report: a, pages, oneStderr } = await both(home, id);
    expect(oneStderr).not.toMatch(/helper thread, /);
    expect(pages).toBe(7);
    expect(a).not.toContain('hunter2');
    expect(a).not.toContain('correct-horse');
    expect(a).toContain('late: password=');
    } finally {
      cleanup();
    }
  }, 120_000);
});

describe('ir postmortem, pages read on a helper thread, secrets only a look at every string finds', () => {
  const T = AT.getTime();
  // A scan of a page's data text in place of its strings (tried, to move that work to the helper
  // thread) must not miss these: a trigger word spelt by a JSON escape, a value found pages before
  // (no trigger word where it is repeated), and what only a team's pattern matches.
  it('redacts a secret whose trigger word only an escape spells, a value found pages before, and what a team pattern matches', async () => {
    const { home, cleanup } = tempHome();
    try {
      const s = await openStore(join(home, 'ir.db'));
      let plain: string;
      let found: string;
      try {
        plain = (await s.declare({ title: 'plain pages', severity: 'SEV-2' }, AT, 'alice')).incident.id;
        found = (await s.declare({ title: 'a value found early', severity: 'SEV-2' }, AT, 'alice')).incident.id;
        // Pages of 500: the second of `found` names a secret, the fifth holds its value bare and a ticket number.
        for (let k = 0; k < 6; k++) {
          await s.append(plain, () => Array.from({ length: 500 }, (_, i) => ({ type: 'note.added', data: { text: `note ${k}.${i}` } })), new Date(T + k * 60_000), 'bob');
          await s.append(
            found,
            () =>
              Array.from({ length: 500 }, (_, i) => ({
                type: 'note.added',
                data: { text: k === 1 && i === 7 ? 'rotated: password=Zq8xK2mP9vLw4' : k === 4 && i === 9 ? 'Zq8xK2mP9vLw4 is gone; see ticket-424242' : `note ${k}.${i}` },
              })),
            new Date(T + k * 60_000),
            'bob',
          );
        }
        for (const id of [plain, found]) await s.append(id, () => ({ type: 'incident.resolved', data: { summary: 'done' } }), new Date(T + 6 * 60_000), 'alice');
      } finally {
        await s.close();
      }
      // Written into the file by another writer: a secret whose trigger word only its escape spells.
      const db = new Database(join(home, 'ir.db'));
      db.prepare(`INSERT INTO events (incident_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, 'note.added', 'eve', ?, 'p', 'h')`).run(plain, new Date(T + 7 * 60_000).toISOString(), '{"text":"\\u0070assword=hunter2-escaped-value"}');
      // A writer of events records the runs they form (schema 11: ir's own writer does, no trigger).
      db.exec(`INSERT OR IGNORE INTO event_runs (seq, incident_id) SELECT seq, incident_id FROM (SELECT seq, incident_id, lag(incident_id) OVER (ORDER BY seq) AS before FROM events) WHERE before IS NOT incident_id`);
      db.close();

      const a = await both(home, plain);
      expect(a.report).not.toContain('hunter2-escaped-value');
      expect(a.report).toMatch(/Note: password=\[REDACTED-[A-Z-]+-1\]/);
      expect(a.pages).toBe(7);

      const runbooks = join(home, 'runbooks');
      mkdirSync(runbooks);
      copyFileSync(join(ROOT, 'runbooks', 'severities.yaml'), join(runbooks, 'severities.yaml'));
      writeFileSync(join(runbooks, 'ir.yaml'), 'redaction:\n  - "ticket-(\\\\d{6})"\n');
      for (const env of [{}, { IR_RUNBOOKS: runbooks }] as Record<string, string>[]) {
        const b = await both(home, found, env);
        expect(b.report).not.toContain('Zq8xK2mP9vLw4');
        expect(b.report).toMatch(/Note: \[REDACTED-[A-Z-]+-1\] is gone/);
        if (env.IR_RUNBOOKS) expect(b.report).toContain('see ticket-[REDACTED-CUSTOM-1]');
      }
    } finally {
      cleanup();
    }
  }, 120_000);
});
