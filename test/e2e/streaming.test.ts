// Long incidents are streamed: `ir postmortem`, `ir show` and `ir timeline` (human and --json) of an
// incident of 200,000 events run in a 64 MiB heap (the whole timeline held at once needs several
// times that), and the streamed output is the same as the output built from the whole array.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import type { NewEvent } from '../../src/core/incident.js';
import { eventJson, renderTimeline } from '../../src/commands/incident/render.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { MAX_OUTLINE_ACTORS } from '../../src/store/types.js';
import { BIN, ir, irEnv, irFirstOutput, json, tempHome } from '../helpers/cli.js';

const T0 = Date.parse('2026-11-22T02:00:00.000Z');

/**
 * Runs ir with its stdout in a file (200,000 lines would only fill the test's own memory), without
 * blocking the test runner while it works.
 */
async function irToFile(home: string, args: string[], out: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const fd = openSync(out, 'w');
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: irEnv(home, env), stdio: ['ignore', fd, 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  } finally {
    closeSync(fd);
  }
}

describe('a 200,000-event incident in a 64 MiB heap', () => {
  const EVENTS = 200_000;
  const { home, cleanup } = tempHome('ir-stream-');
  let id: string;
  beforeAll(async () => {
    const store = SqliteStore.open(join(home, 'ir.db'), { synchronous: 'NORMAL' });
    const { incident } = await store.declare({ title: 'long incident', severity: 'SEV-2', service: 'checkout' }, new Date(T0), 'alice');
    id = incident.id;
    await store.append(id, () => ({ type: 'runbook.started', data: { run_id: 'RUN-1', runbook: 'redis-failure', title: 'Redis failure' } }), new Date(T0 + 1000), 'alice');
    for (let n = 2; n < EVENTS - 1; n += 2000) {
      const count = Math.min(2000, EVENTS - 1 - n);
      const first = n;
      await store.append(
        id,
        () =>
          Array.from({ length: count }, (_, i): NewEvent =>
            (first + i) % 10 === 0
              ? { type: 'runbook.step', data: { run_id: 'RUN-1', runbook: 'redis-failure', step: `s${first + i}`, kind: 'run', title: 'INFO', outcome: 'ok', command: 'redis-cli INFO', exit_code: 0 } }
              : { type: 'note.added', data: { text: `n${first + i}` } },
          ),
        new Date(T0 + n * 1000),
        'bob',
      );
      // The seeding is synchronous work: let the test runner's own messages through.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.append(id, () => ({ type: 'incident.resolved', data: { summary: 'done' } }), new Date(T0 + EVENTS * 1000), 'alice');
    await store.close();
  }, 600_000);
  afterAll(() => cleanup());
  const small = { NODE_OPTIONS: '--max-old-space-size=64' };

  it('ir postmortem --out writes every timeline row, and counts the steps it does not list', async () => {
    const out = join(home, 'pm.md');
    const r = await irToFile(home, ['postmortem', id, '--out', out], join(home, 'pm.out'), small);
    expect(r.stderr).not.toMatch(/heap|internal error/i);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.match(/^\| 2026-\d\d-\d\d \d\d:\d\d:\d\dZ \| /gm)).toHaveLength(EVENTS);
    expect(text).toContain('| Note: n199998 |');
    expect(text).toMatch(/\| … \| 18999 more steps \(18999 ok\) not listed here; every one is in `ir timeline INC-/);
    expect(text.indexOf('## Timeline (UTC)')).toBeLessThan(text.indexOf('## Runbook steps executed'));
  }, 300_000);

  it('ir postmortem to stdout', async () => {
    const out = join(home, 'pm-stdout.md');
    const r = await irToFile(home, ['postmortem', id], out, small);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').match(/^\| 2026-.*\| Note: /gm)!.length).toBeGreaterThan(170_000);
  }, 300_000);

  it('ir show and ir timeline print every event', async () => {
    for (const args of [['show', id], ['timeline', id]]) {
      const out = join(home, `${args[0]}.txt`);
      const r = await irToFile(home, args, out, small);
      expect(r.code, r.stderr).toBe(0);
      const lines = readFileSync(out, 'utf8').split('\n');
      expect(lines.filter((l) => /^2026-\d\d-\d\d /.test(l))).toHaveLength(EVENTS);
    }
  }, 300_000);

  it('ir timeline --json and ir show --json are one JSON document with every event', async () => {
    for (const args of [['timeline', id, '--json'], ['show', id, '--json']]) {
      const out = join(home, `${args[0]}.json`);
      const r = await irToFile(home, args, out, small);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(readFileSync(out, 'utf8')) as { events: { seq: number }[] };
      expect(doc.events).toHaveLength(EVENTS);
      expect(doc.events.at(-1)!.seq).toBe(EVENTS);
    }
  }, 300_000);

  it('a reader that goes away after the first lines (`ir timeline | head -1`) ends ir quietly: exit 0, nothing on stderr', async () => {
    for (const args of [['timeline', id], ['timeline', id, '--json'], ['show', id]]) {
      const { first, code, stderr } = await irFirstOutput(home, args, small);
      expect(first.length).toBeGreaterThan(0);
      expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  }, 300_000);
});

describe('streamed output is what the whole array gave', () => {
  const { home, cleanup } = tempHome('ir-stream-same-');
  let id: string;
  beforeAll(async () => {
    const store = SqliteStore.open(join(home, 'ir.db'));
    const { incident } = await store.declare({ title: 'small | "quoted"', severity: 'SEV-2', commander: 'alice' }, new Date(T0), 'alice');
    id = incident.id;
    await store.append(id, () => [{ type: 'note.added', data: { text: 'line one\nline two', nested: { b: [1, {}, []], a: null } } }, { type: 'incident.acknowledged', data: {} }], new Date(T0 + 60_000), 'bob the long-named responder');
    // Written offline earlier, delivered now: its time is before the event above.
    await store.append(id, () => ({ type: 'note.added', data: { text: 'from the train' } }), new Date(T0 + 30_000), 'carol', { recordedAt: new Date(T0 + 90_000) });
    await store.append(id, () => ({ type: 'incident.resolved', data: { summary: 'fixed' } }), new Date(T0 + 120_000), 'alice');
    await store.close();
  });
  afterAll(() => cleanup());

  async function events() {
    const store = SqliteStore.open(join(home, 'ir.db'));
    try {
      return await store.events(id);
    } finally {
      await store.close();
    }
  }

  it('ir timeline --json equals the array form, byte for byte', async () => {
    const r = ir(home, ['timeline', id, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify({ incident: id, events: (await events()).map(eventJson) }, null, 2)}\n`);
  });

  it('ir show --json ends with the same events array, and is one document', async () => {
    const r = ir(home, ['show', id, '--json']);
    expect(r.code).toBe(0);
    const doc = json<{ events: unknown[] }>(r);
    expect(doc.events).toEqual(JSON.parse(JSON.stringify((await events()).map(eventJson))));
    expect(r.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it('ir timeline and ir show print the columns renderTimeline gives', async () => {
    const table = renderTimeline(await events(), new Chalk({ level: 0 }));
    expect(ir(home, ['timeline', id]).stdout).toBe(`${table}\n`);
    expect(ir(home, ['show', id]).stdout.endsWith(`\nTimeline\n${table}\n`)).toBe(true);
  });

  it('the postmortem timeline is in the order things happened, the late note in its place', () => {
    const r = ir(home, ['postmortem', id]);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\| 2026-/.test(l));
    expect(rows.map((l) => l.split(' | ')[2].replace(/ \|$/, ''))).toEqual(['Declared SEV-2: small \\| "quoted"; commander alice', 'Note: from the train [written offline, delivered 2026-11-22 02:01:30Z]', 'Note: line one line two', 'Acknowledged', 'Resolved: fixed']);
  });
});

describe('columns the store cannot outline are still what the whole array gave', () => {
  // The outline (count, actors, whether every time is toISOString's) lets a timeline skip its first
  // read. Where it cannot say — a time printed wider, more actors than it holds — the first read
  // takes over; either way the columns are those renderTimeline gives from the whole array.
  const { home, cleanup } = tempHome('ir-stream-wide-');
  afterAll(() => cleanup());

  async function seed(file: string, fill: (store: SqliteStore, id: string) => Promise<void>): Promise<string> {
    const store = SqliteStore.open(join(home, file));
    try {
      const { incident } = await store.declare({ title: 'odd columns', severity: 'SEV-3' }, new Date(T0), 'alice');
      await fill(store, incident.id);
      return incident.id;
    } finally {
      await store.close();
    }
  }

  async function expectSameAsArray(file: string, id: string): Promise<void> {
    const store = SqliteStore.open(join(home, file));
    const all = await store.events(id).finally(() => store.close());
    const sub = join(home, file.replace(/\.db$/, ''));
    mkdirSync(sub, { recursive: true });
    copyFileSync(join(home, file), join(sub, 'ir.db'));
    const table = renderTimeline(all, new Chalk({ level: 0 }));
    const timeline = ir(sub, ['timeline', id]);
    expect(timeline.code, timeline.stderr).toBe(0);
    expect(timeline.stdout).toBe(`${table}\n`);
    expect(ir(sub, ['show', id]).stdout.endsWith(`\nTimeline\n${table}\n`)).toBe(true);
    const doc = ir(sub, ['timeline', id, '--json']);
    expect(doc.stdout).toBe(`${JSON.stringify({ incident: id, events: all.map(eventJson) }, null, 2)}\n`);
  }

  it('a time past year 9999 (a wider time column), actors beyond ASCII, texts ending in spaces', async () => {
    const id = await seed('wide.db', async (store, id) => {
      await store.append(id, () => [{ type: 'note.added', data: { text: 'trailing spaces   \t' } }, { type: 'note.added', data: { text: '' } }], new Date(T0 + 1000), 'Zoë 🚒 on-call');
      await store.append(id, () => ({ type: 'note.added', data: { text: 'from the far future' } }), new Date('+010000-01-01T00:00:00.000Z'), 'bob');
      await store.append(id, () => ({ type: 'custom.thing', data: { anything: [1, 2] } }), new Date(T0 + 2000), 'bot');
    });
    await expectSameAsArray('wide.db', id);
  });

  it('more actors than an outline holds, and a --json array of several batches', async () => {
    const id = await seed('crowded.db', async (store, id) => {
      for (let i = 0; i <= MAX_OUTLINE_ACTORS; i++) {
        await store.append(id, () => ({ type: 'note.added', data: { text: `n${i}` } }), new Date(T0 + i * 1000), i === 500 ? 'the widest actor of them all' : `responder ${i}`);
        if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await expectSameAsArray('crowded.db', id);
  }, 120_000);
});
