// `ir show` and `ir timeline` (human and --json) of a long incident render its timeline on two
// threads: what they print is byte for byte what the one-thread streamed path prints, with colour on
// and off, whatever the events hold; a helper thread that fails fails the command in one line.

import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/incident.js';
import { PARALLEL_RENDER_MIN } from '../../src/commands/incident/parallel.js';
import { SqliteDatabase } from '../../src/store/sqlite/database.js';
import { BIN, irEnv, irFirstOutput, ROOT } from '../helpers/cli.js';

const T0 = Date.UTC(2026, 10, 25, 1, 0, 0);
/** Long enough for two threads at the default threshold. */
const LENGTH = PARALLEL_RENDER_MIN + 3000;
/** The one-thread path, whatever the length. */
const SEQUENTIAL = { IR_PARALLEL_MIN_EVENTS: String(Number.MAX_SAFE_INTEGER) };
const COLOUR = { NO_COLOR: undefined, FORCE_COLOR: '1' };
/** The card's ages and SLA clocks read at one fixed moment, so two runs print the same card. */
const FIXED_NOW = { NODE_OPTIONS: `--import ${join(ROOT, 'test', 'helpers', 'fixed-clock.mjs')}`, IR_TEST_NOW: '2026-11-26T00:00:00.000Z' };

/** Runs ir with stdout in a file (megabytes of timeline), without blocking the test runner. */
async function run(home: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const out = join(home, `out-${process.hrtime.bigint()}.txt`);
  const fd = openSync(out, 'w');
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: irEnv(home, { ...FIXED_NOW, ...env }), cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stderr }));
    });
    return { code, stdout: readFileSync(out), stderr };
  } finally {
    closeSync(fd);
    rmSync(out, { force: true });
  }
}

/**
 * A long incident, written by ir's own store code, with what could print differently on another
 * thread: actors beyond ASCII and of several widths, times out of order, events delivered late,
 * multi-line and escape-laden texts dimmed by colour, notes holding secrets, texts ending in spaces,
 * a second incident's events between its own (gaps in its seqs), and, at the end of the range, a time
 * not in toISOString's form and one past the year 9999 (with IR_TEST_RENDER_HELPER=all the helper
 * thread outlines every stretch, these too).
 */
function seed(home: string): string {
  const store = SqliteDatabase.open(join(home, 'ir.db'), { synchronous: 'NORMAL' });
  const { incident } = store.declare({ title: 'long night', severity: 'SEV-2', service: 'checkout' }, new Date(T0), 'alice');
  const other = store.declare({ title: 'meanwhile', severity: 'SEV-4' }, new Date(T0), 'carol').incident.id;
  const event = (n: number): NewEvent =>
    n % 10 === 0
      ? { type: 'runbook.step', data: { run_id: 'RUN-1', step: `s${n}`, kind: 'run', outcome: 'ok', command: `redis-cli INFO\necho "${n}"`, exit_code: 0 } }
      : n % 97 === 0
        ? { type: 'note.added', data: { text: `rotated the key: AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY password=hunter2 (${n})` } }
        : n % 89 === 0
          ? { type: 'incident.escalated', data: { notify: 'sre-lead', reason: `paged \u001b[1mtwice\u001b[22m and \u001b[2mdimmed\u001b[22m ${n}` } }
          : n % 83 === 0
            ? { type: 'note.added', data: { text: `trailing spaces ${n}   \t` } }
            : n % 79 === 0
              ? { type: 'custom.thing', data: { anything: [n, 'ok'] } }
              : { type: 'note.added', data: { text: `observation ${n}: p99 ${n % 500}ms` } };
  const actors = ['bob', 'Zoë 🚒 on-call', '李雷', 'bot'];
  for (let n = 1, b = 0; n < LENGTH; n += 500, b++) {
    const batch = Array.from({ length: Math.min(500, LENGTH - n) }, (_, i) => event(n + i));
    // Every fifth batch back in time, every seventh delivered late (written offline).
    const at = new Date(T0 + (b % 5 === 4 ? -n : n) * 1000);
    store.append(incident.id, () => batch, at, actors[b % actors.length], b % 7 === 6 ? { recordedAt: new Date(at.getTime() + 90_000) } : {});
    if (b % 3 === 0) store.append(other, () => ({ type: 'note.added', data: { text: `elsewhere ${n}` } }), at, 'carol');
  }
  store.append(incident.id, () => ({ type: 'note.added', data: { text: 'from the far future' } }), new Date('+010000-01-01T00:00:00.000Z'), 'bob');
  store.append(incident.id, () => ({ type: 'note.added', data: { text: 'last word' } }), new Date(T0 + LENGTH * 1000), 'dave');
  // A time someone wrote by hand into the file: not toISOString's form, so its width is measured.
  const last = store.db.prepare(`SELECT hash FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT 1`).pluck().get(incident.id) as string;
  store.db.prepare(`INSERT INTO events (incident_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, 'note.added', 'imported', ?, ?, ?)`).run(incident.id, '2026-11-25T05:00:00+01:00', JSON.stringify({ text: 'imported by hand' }), last, 'f'.repeat(64));
  store.close();
  return incident.id;
}

describe('a timeline long enough for two threads', () => {
  let home: string;
  let id: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'ir-parallel-'));
    id = seed(home);
  }, 120_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it.each([
    ['ir show', ['show'], {}],
    ['ir show, colour on', ['show'], COLOUR],
    ['ir timeline', ['timeline'], {}],
    ['ir timeline, colour on', ['timeline'], COLOUR],
    ['ir show --json', ['show', '--json'], {}],
    ['ir timeline --json', ['timeline', '--json'], {}],
  ] as const)('%s prints byte for byte what the one-thread path prints, chunks shared or all from the helper', async (_name, args, env) => {
    const sequential = await run(home, [...args, id], { ...env, ...SEQUENTIAL });
    expect(sequential.code, sequential.stderr).toBe(0);
    const shared = await run(home, [...args, id], env);
    const helper = await run(home, [...args, id], { ...env, IR_TEST_RENDER_HELPER: 'all' });
    for (const parallel of [shared, helper]) {
      expect(parallel.stderr).toBe('');
      expect(parallel.code).toBe(0);
      expect(parallel.stdout.length).toBe(sequential.stdout.length);
      expect(parallel.stdout.equals(sequential.stdout)).toBe(true);
    }
    const text = shared.stdout.toString('utf8');
    if ((args as readonly string[]).includes('--json')) {
      const doc = JSON.parse(text) as { events: { seq: number; actor: string }[] };
      expect(doc.events.length).toBe(LENGTH + 3);
      expect(doc.events.map((e) => e.seq)).toEqual([...doc.events.map((e) => e.seq)].sort((a, b) => a - b));
    } else {
      expect(text).toContain('10000-01-01 00:00:00Z');
      expect(text).toContain('Zoë 🚒 on-call');
      // A runbook step is dimmed with colour on, plain without.
      expect(text).toContain('Step s10 ok exit 0: `redis-cli INFO');
      expect(text.includes('\u001b[2mStep s10 ok exit 0: `redis-cli INFO')).toBe('FORCE_COLOR' in env);
    }
  }, 120_000);

  it('with the threshold lowered for tests, a short stretch of chunks is also the same', async () => {
    // Chunks of a handful of events: the threads take many turns, and the later events of the
    // other incident leave whole chunks empty.
    const home2 = mkdtempSync(join(tmpdir(), 'ir-parallel-short-'));
    try {
      const store = SqliteDatabase.open(join(home2, 'ir.db'));
      const { incident } = store.declare({ title: 'short', severity: 'SEV-3' }, new Date(T0), 'alice');
      const other = store.declare({ title: 'busy elsewhere', severity: 'SEV-4' }, new Date(T0), 'carol').incident.id;
      for (let n = 0; n < 40; n++) store.append(incident.id, () => ({ type: n % 3 ? 'note.added' : 'incident.acknowledged', data: { text: `n${n}` } }), new Date(T0 + n * 1000), n % 2 ? 'ann' : 'b');
      for (let n = 0; n < 30; n++) store.append(other, () => ({ type: 'note.added', data: { text: `x${n}` } }), new Date(T0), 'carol');
      store.append(incident.id, () => ({ type: 'note.added', data: { text: 'after the gap' } }), new Date(T0 + 60_000), 'a much longer actor name');
      store.close();
      for (const args of [['show'], ['timeline'], ['timeline', '--json'], ['show', '--json']]) {
        const sequential = await run(home2, [...args, incident.id], { ...COLOUR, ...SEQUENTIAL });
        for (const mode of [undefined, 'all']) {
          const parallel = await run(home2, [...args, incident.id], { ...COLOUR, IR_PARALLEL_MIN_EVENTS: '1', IR_TEST_RENDER_HELPER: mode });
          expect(parallel.code, parallel.stderr).toBe(0);
          expect(parallel.stdout.toString('utf8')).toBe(sequential.stdout.toString('utf8'));
        }
      }
    } finally {
      rmSync(home2, { recursive: true, force: true });
    }
  }, 120_000);

  it('data read on the helper thread is the data the one-thread path reads, whatever text was stored (plain notes taken without JSON.parse)', async () => {
    // Texts written into the file by hand, each beside the shape of a note ir writes: escapes,
    // characters JSON forbids raw, other keys, duplicate keys, spaces, other types, no JSON at all.
    const stored = [
      '{"text":"plain"}',
      '{"text":""}',
      '{"text":"tab\\there"}',
      '{"text":"raw\ttab"}',
      '{"text":"raw\nline"}',
      '{"text":"quote \\" and backslash \\\\ and \\u00e9"}',
      '{"text":"é 🚒 李雷 \u2028 \u007f end"}',
      '{"text":"dup","text":"second wins"}',
      '{"text":"x","y":1}',
      '{ "text":"spaced"}',
      '{"text":"trailing"} ',
      '{"text":12}',
      '{"text":"unterminated}',
      'not json at all',
      '"just a string"',
      '{"text":"ends in spaces   "}',
    ];
    const home3 = mkdtempSync(join(tmpdir(), 'ir-parallel-data-'));
    try {
      const store = SqliteDatabase.open(join(home3, 'ir.db'));
      const { incident } = store.declare({ title: 'odd data', severity: 'SEV-3' }, new Date(T0), 'alice');
      const insert = store.db.prepare(`INSERT INTO events (incident_id, at, type, actor, data, prev_hash, hash) VALUES (?, ?, ?, 'hand', ?, ?, ?)`);
      stored.forEach((data, i) => {
        for (const type of ['note.added', 'incident.resolved', 'incident.acknowledged']) insert.run(incident.id, new Date(T0 + i * 1000).toISOString(), type, data, '0'.repeat(64), 'f'.repeat(64));
      });
      store.close();
      for (const args of [['timeline'], ['timeline', '--json'], ['show', '--json']]) {
        const sequential = await run(home3, [...args, incident.id], SEQUENTIAL);
        expect(sequential.code, sequential.stderr).toBe(0);
        for (const mode of [undefined, 'all']) {
          const parallel = await run(home3, [...args, incident.id], { IR_PARALLEL_MIN_EVENTS: '1', IR_TEST_RENDER_HELPER: mode });
          expect(parallel.code, parallel.stderr).toBe(0);
          expect(parallel.stdout.toString('utf8')).toBe(sequential.stdout.toString('utf8'));
        }
      }
      const human = (await run(home3, ['timeline', incident.id], { IR_PARALLEL_MIN_EVENTS: '1', IR_TEST_RENDER_HELPER: 'all' })).stdout.toString('utf8');
      expect(human).toContain('Note: plain\n');
      expect(human).toContain('Note: second wins\n');
      expect(human).toContain('Note: quote " and backslash \\ and é\n');
      expect(human).toContain('Note: tab\there\n');
      // A raw control character is no JSON: the data is unreadable, the note has no text.
      expect(human).not.toContain('raw');
    } finally {
      rmSync(home3, { recursive: true, force: true });
    }
  }, 120_000);

  it('a helper thread that fails fails the command: exit 1, one line naming it, no hang, no trace', async () => {
    const human = await run(home, ['timeline', id], { IR_TEST_RENDER_HELPER: 'fail' });
    expect(human.code).toBe(1);
    expect(human.stderr).toBe('ir: the helper thread rendering the timeline failed: failing as IR_TEST_RENDER_HELPER=fail asks\n');
    // --json reports on stdout, after the events written before the failure.
    const doc = await run(home, ['show', id, '--json'], { IR_TEST_RENDER_HELPER: 'fail' });
    expect(doc.code).toBe(1);
    expect(doc.stderr).toBe('');
    expect(doc.stdout.toString('utf8')).toMatch(/\{\n {2}"error": \{\n {4}"kind": "failed",\n {4}"message": "the helper thread rendering the timeline failed: failing as IR_TEST_RENDER_HELPER=fail asks"\n {2}\}\n\}\n$/);
    // Below the threshold no helper is started, so nothing can fail it.
    const short = await run(home, ['timeline', id], { IR_TEST_RENDER_HELPER: 'fail', ...SEQUENTIAL });
    expect(short.code, short.stderr).toBe(0);
  }, 120_000);

  it('the helper thread, started before severities.yaml is read, ends with a command that fails on it: exit 2, one line, no hang', async () => {
    const team = join(home, 'team');
    mkdirSync(team, { recursive: true });
    writeFileSync(join(team, 'severities.yaml'), 'severities: [\n');
    for (const env of [{}, { IR_TEST_RENDER_HELPER: 'all' }]) {
      const r = await run(home, ['show', id], { ...env, IR_RUNBOOKS: team });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toContain(join(team, 'severities.yaml'));
      expect(r.stdout.length).toBe(0);
    }
  }, 120_000);

  it('a reader that goes away early (`ir timeline | head -1`) ends ir quietly: exit 0, nothing on stderr', async () => {
    for (const args of [['timeline', id], ['timeline', id, '--json'], ['show', id]]) {
      const { first, code, stderr } = await irFirstOutput(home, args);
      expect(first.length).toBeGreaterThan(0);
      expect({ args, code, stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  }, 120_000);
});

it('the built ir ships the render helper thread beside the chunk that starts it (else long timelines quietly render on one thread)', () => {
  const bin = join(ROOT, 'dist', 'bin');
  expect(existsSync(join(bin, 'render-worker.js'))).toBe(true);
  const starter = readdirSync(bin).filter((f) => /\.c?js$/.test(f) && readFileSync(join(bin, f), 'utf8').includes('"./render-worker.js"'));
  expect(starter.length).toBeGreaterThan(0);
});
