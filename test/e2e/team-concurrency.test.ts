// A team on one PostgreSQL store at once: two homes (two machines), 8 processes × 500 `ir note` on one
// incident while 4 more run the lifecycle on it and on others. Nothing lost, nothing forked, no
// error that is not the user's.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';
import { psql, startPostgres, type PostgresServer } from '../helpers/services.js';

const WRITERS = 8;
const NOTES = 500;
/** What must never reach a responder: the store failing under load rather than refusing a command. */
const NOT_THE_USERS = /internal error|deadlock|could not serialize|serialization|duplicate key|unique constraint|violates|too many clients|timeout|ECONNRESET|\n\s+at /i;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Step {
  args: string[];
  code: number;
  stderr: string;
}

describe('team store under load', () => {
  let server: PostgresServer;
  const homes: { home: string; cleanup: () => void }[] = [];
  let url: string;
  const env = () => ({ IR_STORE: url });

  beforeAll(async () => {
    server = await startPostgres();
    psql(server, 'postgres', 'CREATE DATABASE ir_team;');
    url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/ir_team`;
    homes.push(tempHome('ir-team-a-'), tempHome('ir-team-b-'));
  }, 60_000);
  afterAll(async () => {
    for (const h of homes) h.cleanup();
    await server?.stop();
  });

  it('8 processes on two homes × 500 notes → 4000 events, gapless seq, chain verifies, while 4 more run the lifecycle', async () => {
    const [a, b] = homes.map((h) => h.home);
    const main = json<{ id: string }>(ir(a, ['declare', '--json', '-t', 'checkout is down', '-s', 'SEV-2'], { env: env() })).id;
    const second = json<{ id: string }>(ir(b, ['declare', '--json', '-t', 'search is slow', '-s', 'SEV-3'], { env: env() })).id;

    const on = (id: string, ...args: string[]) => ['--incident', id, ...args];
    const scripts: string[][][] = [
      // The commander: roles, severity, state, on the incident everyone is writing to.
      Array.from({ length: 6 }, (_, r) => [
        on(main, 'ack'),
        on(main, 'assign', 'commander', `alice ${r}`),
        on(main, 'assign', 'scribe', `sam ${r}`),
        on(main, 'severity', r % 2 ? 'SEV-2' : 'SEV-1', '--reason', `round ${r}`),
        on(main, 'status', ['identified', 'mitigating', 'monitoring'][r % 3], '--note', `round ${r}`),
      ]).flat(),
      // An engineer on the other machine: ack (only one ack wins), escalate, action items.
      Array.from({ length: 6 }, (_, r) => [
        on(main, 'ack'),
        on(main, 'escalate', '--reason', `round ${r}`),
        on(main, 'action', 'add', `follow-up ${r}`, '--owner', 'bob'),
        on(main, 'action', 'done', String(r + 1)),
        on(main, 'assign', 'comms', `carol ${r}`),
      ]).flat(),
      // New incidents declared while the load runs, each worked and resolved.
      Array.from({ length: 6 }, (_, r) => [
        ['declare', '--json', '-t', `side issue ${r}`, '-s', 'SEV-4'],
        on('$LAST', 'ack'),
        on('$LAST', 'note', `side note ${r}`),
        on('$LAST', 'resolve', '--summary', `fixed ${r}`),
      ]).flat(),
      // The second incident resolved and reopened over and over; twice in a row is refused.
      Array.from({ length: 6 }, (_, r) => [
        on(second, 'resolve', '--summary', `done ${r}`),
        on(second, 'resolve', '--summary', `again ${r}`),
        ['reopen', second, '--reason', `back ${r}`],
        on(second, 'severity', r % 2 ? 'SEV-3' : 'SEV-2', '--reason', `round ${r}`),
      ]).flat(),
    ];
    const mixed = scripts.map((steps, i) => {
      const file = join(homes[i % 2].home, `steps-${i}.json`);
      writeFileSync(file, JSON.stringify(steps));
      return spawnNode('test/helpers/command-worker.mjs', [file], irEnv(homes[i % 2].home, env()));
    });
    const writers = Array.from({ length: WRITERS }, (_, w) =>
      spawnNode('test/helpers/note-writer.mjs', [main, String(w), String(NOTES)], irEnv(homes[w % 2].home, env())),
    );

    const written = await Promise.all(writers);
    for (const r of written) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const ran = await Promise.all(mixed);
    const steps: Step[] = ran.flatMap((r) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Step[];
    });
    for (const s of steps) {
      // A refused transition is the user's error (exit 1 or 2, one line); nothing else is.
      expect([0, 1, 2], `${s.args.join(' ')}: ${s.stderr}`).toContain(s.code);
      expect(s.stderr, s.args.join(' ')).not.toMatch(NOT_THE_USERS);
      if (s.code !== 0) expect(s.stderr.trim().split('\n'), s.args.join(' ')).toHaveLength(1);
    }
    const ok = (pred: (s: Step) => boolean) => steps.filter((s) => pred(s) && s.code === 0).length;
    // Both ack the main incident first thing: exactly one of them wins, every time.
    expect(ok((s) => s.args[0] === '--incident' && s.args[1] === main && s.args[2] === 'ack')).toBe(1);
    expect(ok((s) => s.args[0] === 'declare')).toBe(6);
    expect(ok((s) => s.args[2] === 'resolve' && s.args[1] === second)).toBe(6);
    expect(ok((s) => s.args[0] === 'reopen')).toBe(6);

    const q = (sql: string) => psql(server, 'ir_team', sql).trim();
    // Every writer's notes, all of them, in the order each wrote them.
    const notes = q(`SELECT data::json->>'text' FROM events WHERE incident_id = '${main}' AND type = 'note.added' ORDER BY seq`).split('\n');
    expect(notes).toHaveLength(WRITERS * NOTES);
    for (let w = 0; w < WRITERS; w++) {
      const mine = notes.filter((t) => t.startsWith(`worker ${w} `)).map((t) => Number(t.split(' ').pop()));
      expect(mine).toEqual(Array.from({ length: NOTES }, (_, i) => i));
    }
    // The store-wide seq: gapless, from 1, one per event; and per incident, strictly increasing.
    const [count, min, max] = q('SELECT count(*), min(seq), max(seq) FROM events').split('|').map(Number);
    expect([min, max]).toEqual([1, count]);
    expect(count).toBeGreaterThan(WRITERS * NOTES);
    expect(q('SELECT count(*) FROM incidents i WHERE head_seq <> (SELECT max(seq) FROM events e WHERE e.incident_id = i.id)')).toBe('0');

    // The chain verifies from either machine, over every incident.
    for (const home of [a, b]) {
      const verify = ir(home, ['timeline', '--verify', '--json'], { env: env() });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(json(verify)).toMatchObject({ ok: true, events: count, incidents: 2 + 6 });
    }
    // Ids were allocated by the database: each declaration got its own.
    const ids = q('SELECT id FROM incidents ORDER BY id').split('\n');
    expect(new Set(ids).size).toBe(8);
    expect(ids).toEqual(expect.arrayContaining([main, second]));

    // Every event says which of the two machines wrote it, and both wrote.
    const origins = homes.map((h) => `${hostname()}/${readFileSync(join(h.home, 'installation-id'), 'utf8').trim()}`);
    expect(q('SELECT DISTINCT origin FROM events ORDER BY origin').split('\n').sort()).toEqual([...origins].sort());
  }, 300_000);
});
