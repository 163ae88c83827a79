// `ir postmortem` of a long incident on SQLite hands the second part of the timeline to a helper
// thread. The report must be byte for byte the one a single thread writes: the same rows, the same
// model (authors, last notes, runbook steps listed and counted, actions taken), the same
// placeholders numbered in the same order, whether the helper's part is kept or, when it cannot be
// (a value to redact found before the cut, events out of order), read again by the main thread.
// IR_POSTMORTEM_HELPER_MIN forces the helper on (1) or off (a huge number); IR_DEBUG=1 makes ir say
// which way it went.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent } from '../../src/core/incident.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { ROOT, irAsync, tempHome, type RunResult } from '../helpers/cli.js';
import { secretCorpus } from '../report/secret-corpus.js';

const T0 = Date.parse('2026-11-22T02:00:00.000Z');
const EVENTS = 9000;
const ON = { IR_POSTMORTEM_HELPER_MIN: '1', IR_DEBUG: '1' };
const OFF = { IR_POSTMORTEM_HELPER_MIN: '1000000000' };
const corpus = secretCorpus(14);
const by = (name: string) => corpus.find((p) => p.name === name)!;

interface Shape {
  /** Notes holding secrets, by event number (the cut falls at event 4000 of 9000). */
  secrets?: Record<number, string>;
  /** Event numbers whose batch is written with a time before the batch ahead of it. */
  lateAt?: number;
}

/** Event number k of the long incident: half notes, half checks of RUN-1 (and RUN-2 once started), now and then something else. */
function event(k: number, shape: Shape): NewEvent {
  const secret = shape.secrets?.[k];
  if (secret !== undefined) return { type: 'note.added', data: { text: secret } };
  if (k === 5200) return { type: 'runbook.started', data: { run_id: 'RUN-2', runbook: 'mongodb-outage', title: 'MongoDB outage' } };
  if (k === 8800) return { type: 'runbook.finished', data: { run_id: 'RUN-2', status: 'completed', follow_up: ['Add an index on orders.created_at', 'Page the DBA on replica lag'] } };
  if (k === 8900) return { type: 'runbook.finished', data: { run_id: 'RUN-1', status: 'aborted' } };
  if (k % 1000 === 300) return { type: 'action.added', data: { id: `A${k}`, text: `Follow up on shard ${k % 16} | latency`, owner: 'carol' } };
  if (k % 1500 === 700) return { type: 'incident.severity_changed', data: { from: k < 4000 ? 'SEV-2' : 'SEV-1', to: k < 4000 ? 'SEV-1' : 'SEV-2', reason: `step ${k}` } };
  if (k % 2000 === 900) return { type: 'comms.sent', data: { kind: 'internal', posted: false } };
  if (k % 97 === 0) return { type: 'runbook.step', data: { run_id: 'RUN-1', runbook: 'redis-failure', step: `s${k}`, kind: 'run', title: 'FLUSH', outcome: 'failed', command: 'redis-cli FLUSHALL', exit_code: 1 } };
  if (k % 2 === 0) {
    const run = k > 5200 && k % 4 === 0 ? 'RUN-2' : 'RUN-1';
    return { type: 'runbook.step', data: { run_id: run, runbook: run === 'RUN-1' ? 'redis-failure' : 'mongodb-outage', step: `s${k}`, kind: 'run', title: `Check ${k}`, outcome: 'ok', command: 'redis-cli INFO', exit_code: 0 } };
  }
  return { type: 'note.added', data: { text: `observation ${k}: p99 ${200 + (k % 300)}ms on shard ${k % 16}\\ | done` } };
}

/** A home holding one resolved incident of EVENTS events of the given shape, written by the store itself. */
async function seed(home: string, shape: Shape = {}): Promise<string> {
  const store = SqliteStore.open(join(home, 'ir.db'), { synchronous: 'NORMAL' });
  const { incident } = await store.declare({ title: 'long incident', severity: 'SEV-2', service: 'checkout' }, new Date(T0), 'alice');
  const id = incident.id;
  await store.append(id, () => ({ type: 'runbook.started', data: { run_id: 'RUN-1', runbook: 'redis-failure', title: 'Redis failure' } }), new Date(T0 + 1000), 'alice');
  // Actors change along the timeline: "dave" writes only after the cut, "erin" only near the end.
  const actor = (k: number) => (k > 8500 ? 'erin' : k > 4200 && Math.floor(k / 100) % 5 === 0 ? 'dave' : Math.floor(k / 100) % 2 ? 'bob' : 'carol');
  for (let n = 2; n < EVENTS - 1; n += 100) {
    const first = n;
    const count = Math.min(100, EVENTS - 1 - n);
    // A batch written offline and delivered late carries its own, earlier, time.
    const at = shape.lateAt !== undefined && first <= shape.lateAt && shape.lateAt < first + count ? T0 + (n - 2550) * 1000 : T0 + n * 1000;
    await store.append(id, () => Array.from({ length: count }, (_, i) => event(first + i, shape)), new Date(at), actor(first));
  }
  await store.append(id, () => ({ type: 'incident.resolved', data: { summary: 'done', root_cause: 'a hot shard' } }), new Date(T0 + EVENTS * 1000), 'alice');
  await store.close();
  return id;
}

/** The stderr lines a user sees (the debug line the forced run adds left out). */
const userLines = (stderr: string) => stderr.split('\n').filter((l) => !l.startsWith('postmortem: '));

async function both(home: string, args: string[], env: Record<string, string> = {}): Promise<{ on: RunResult; off: RunResult }> {
  const on = await irAsync(home, args, { env: { ...ON, ...env } });
  const off = await irAsync(home, args, { env: { ...OFF, ...env } });
  expect(on.code, on.stderr).toBe(0);
  expect(off.code, off.stderr).toBe(0);
  expect(userLines(on.stderr)).toEqual(userLines(off.stderr));
  return { on, off };
}

describe('ir postmortem with the helper thread forced on and off', () => {
  const homes: (() => void)[] = [];
  afterAll(() => homes.forEach((c) => c()));
  const home = (prefix: string) => {
    const h = tempHome(prefix);
    homes.push(h.cleanup);
    return h.home;
  };

  describe('an incident with no secret, in order', () => {
    let h: string;
    let id: string;
    beforeAll(async () => {
      h = home('ir-pm-helper-plain-');
      id = await seed(h);
    }, 120_000);

    it('writes the same report, the helper folding the events after the cut', async () => {
      const { on, off } = await both(h, ['postmortem', id]);
      expect(on.stderr).toMatch(/^postmortem: a helper thread folded the 5000 events from seq \d+ on$/m);
      expect(on.stdout).toBe(off.stdout);
      // What the model took from the helper's part: its authors, last notes, steps counted, follow-ups.
      expect(off.stdout).toMatch(/authors: \["alice", "(bob|carol)", "(bob|carol)", "dave", "erin"\]/);
      expect(off.stdout).toMatch(/more steps \(\d+ ok, \d+ failed\) not listed here/);
      expect(off.stdout).toContain('Page the DBA on replica lag');
      expect(off.stdout.match(/^\| 2026-\d\d-\d\d \d\d:\d\d:\d\dZ \| /gm)!.length).toBeGreaterThanOrEqual(EVENTS);
      // The chain head is the last event's seq and hash, read apart from the rows (which carry no hash).
      const store = SqliteStore.open(join(h, 'ir.db'));
      const events = await store.events(id);
      await store.close();
      const last = events.at(-1)!;
      expect(last.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(on.stdout).toContain(`\nchain_head: "${last.seq}:${last.hash}"\n`);
    }, 120_000);

    it('--json and --out write the same too', async () => {
      const j = await both(h, ['postmortem', id, '--json']);
      expect(j.on.stdout).toBe(j.off.stdout);
      const outOn = join(h, 'on.md');
      const outOff = join(h, 'off.md');
      const a = await irAsync(h, ['postmortem', id, '--out', outOn], { env: ON });
      const b = await irAsync(h, ['postmortem', id, '--out', outOff], { env: OFF });
      expect([a.code, b.code]).toEqual([0, 0]);
      expect(readFileSync(outOn, 'utf8')).toBe(readFileSync(outOff, 'utf8'));
    }, 120_000);

    it('a team template whose rows call a helper renders the same rows on both threads', async () => {
      const team = join(h, 'team');
      mkdirSync(join(team, 'templates'), { recursive: true });
      writeFileSync(
        join(team, 'templates', 'postmortem.md'),
        '---\n{{frontMatter}}\n---\n# {{incident.title}}\n{{#each latestNotes}}- {{this}}\n{{/each}}\n| When | Who | What |\n|---|---|---|\n{{#each timeline}}| {{time}} | {{capitalize actor}} | {{text}} |\n{{/each}}\n{{#each runbooks}}{{id}}: {{#each steps}}{{step}}/{{outcome}} {{/each}}\n{{/each}}{{#each actionsTaken}}* {{this}}\n{{/each}}',
      );
      const { on, off } = await both(h, ['postmortem', id], { IR_RUNBOOKS: team });
      expect(on.stderr).toMatch(/^postmortem: a helper thread folded/m);
      expect(off.stdout).toMatch(/^\| 2026-11-22 \d\d:\d\d:\d\dZ \| Dave \| /m);
      expect(on.stdout).toBe(off.stdout);
    }, 120_000);

    it('a team template with no timeline rows to cut out: the helper started early is stopped, and one thread writes the report', async () => {
      const team = join(h, 'team-no-rows');
      mkdirSync(join(team, 'templates'), { recursive: true });
      writeFileSync(join(team, 'templates', 'postmortem.md'), '---\n{{frontMatter}}\n---\n# {{incident.title}}\n{{#each actionsTaken}}* {{this}}\n{{/each}}{{#if timeline.length}}{{timeline.length}} events{{/if}}\n');
      const { on, off } = await both(h, ['postmortem', id], { IR_RUNBOOKS: team });
      expect(on.stderr).not.toMatch(/^postmortem: /m);
      expect(on.stdout).toBe(off.stdout);
      expect(off.stdout).toContain(`${EVENTS} events`);
    }, 120_000);
  });

  it('a secret only after the cut: the helper finds it, and its placeholder and count are the same', async () => {
    const h = home('ir-pm-helper-late-secret-');
    const aws = by('AWS access key id');
    const id = await seed(h, { secrets: { 6000: aws.text, 8000: `again ${aws.secrets[0]} bare` } });
    const { on, off } = await both(h, ['postmortem', id]);
    expect(on.stderr).toMatch(/^postmortem: a helper thread folded/m);
    expect(on.stdout).toBe(off.stdout);
    expect(off.stdout).not.toContain(aws.secrets[0]);
    expect(off.stdout.match(/\[REDACTED-AWS-1\]/g)!.length).toBeGreaterThanOrEqual(2);
    const j = await both(h, ['postmortem', id, '--json']);
    expect(j.on.stdout).toBe(j.off.stdout);
    expect(JSON.parse(j.off.stdout).redactions).toEqual({ AWS: 1 });
  }, 180_000);

  it('a secret before the cut, echoed bare after it: the main thread reads on, and the echo is replaced', async () => {
    const h = home('ir-pm-helper-early-secret-');
    const password = by('password= in a note');
    const github = by('GitHub token');
    const id = await seed(h, { secrets: { 1000: password.text, 7000: `typed ${password.secrets[0]} again`, 7500: github.text } });
    const { on, off } = await both(h, ['postmortem', id]);
    expect(on.stderr).toMatch(/^postmortem: the helper thread's part is not used \(a value to redact found before the cut\)/m);
    expect(on.stdout).toBe(off.stdout);
    for (const s of [...password.secrets, ...github.secrets]) expect(off.stdout).not.toContain(s);
    // --no-redact keeps every value, on both paths alike.
    const raw = await both(h, ['postmortem', id, '--no-redact']);
    expect(raw.on.stderr).toMatch(/^postmortem: a helper thread folded/m);
    expect(raw.on.stdout).toBe(raw.off.stdout);
    expect(raw.off.stdout).toContain(password.secrets[0]);
  }, 180_000);

  it('events out of order after the cut: the timeline is merged by time as one thread does', async () => {
    const h = home('ir-pm-helper-out-of-order-');
    const id = await seed(h, { lateAt: 6502 });
    const { on, off } = await both(h, ['postmortem', id]);
    expect(on.stderr).toMatch(/^postmortem: the helper thread's part is not used \(events out of order after the cut\)/m);
    expect(on.stdout).toBe(off.stdout);
    // The late batch sits where its time puts it: between the batches written 2,500 and 2,600 events before it.
    const rows = off.stdout.split('\n').filter((l) => l.startsWith('| 2026-'));
    const row = (text: string) => rows.findIndex((l) => l.includes(text));
    expect(row('observation 6503:')).toBeGreaterThan(row('observation 4001:'));
    expect(row('observation 6503:')).toBeLessThan(row('observation 4003:'));
  }, 180_000);
});

it('the built ir ships the helper thread beside the chunk that starts it (else a long report quietly takes one thread)', () => {
  const bin = join(ROOT, 'dist', 'bin');
  expect(existsSync(join(bin, 'timeline-helper.js'))).toBe(true);
  const starter = readdirSync(bin).filter((f) => /\.c?js$/.test(f) && readFileSync(join(bin, f), 'utf8').includes('"./timeline-helper.js"'));
  expect(starter.length).toBeGreaterThan(0);
});

describe('a helper thread that fails', () => {
  // A copy of the built ir beside this checkout (so its packages resolve), with the helper replaced.
  const copy = join(ROOT, `.test-pm-helper-${process.pid}`);
  const { home, cleanup } = tempHome('ir-pm-helper-fail-');
  let id: string;
  beforeAll(async () => {
    cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    for (const d of ['templates', 'runbooks']) cpSync(join(ROOT, d), join(copy, d), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    id = await seed(home);
  }, 120_000);
  afterAll(() => {
    rmSync(copy, { recursive: true, force: true });
    cleanup();
  });
  const helperFile = join(copy, 'dist', 'bin', 'timeline-helper.js');

  it('fails the command with one line and exit 1 when the helper throws (no hang, no stack trace)', async () => {
    writeFileSync(helperFile, "throw new Error('disk on fire');\n");
    const r = await irAsync(home, ['postmortem', id], { root: copy, env: { IR_POSTMORTEM_HELPER_MIN: '1' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/postmortem helper thread failed: disk on fire/);
  }, 120_000);

  it('when the helper runs out of its heap, the main thread reads its part and the report is whole', async () => {
    writeFileSync(helperFile, 'const keep = []; for (;;) keep.push(new Array(1e5).fill(Math.random()));\n');
    const r = await irAsync(home, ['postmortem', id], { root: copy, env: { IR_POSTMORTEM_HELPER_MIN: '1', IR_DEBUG: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^postmortem: the helper thread's part is not used \(the helper thread ran out of memory\)/m);
    const off = await irAsync(home, ['postmortem', id], { env: OFF });
    expect(r.stdout).toBe(off.stdout);
  }, 120_000);
});
