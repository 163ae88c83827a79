// `ir status` as a board: most urgent first, fitted to an 80-column terminal, times in the responder's zone.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir, json, tempHome } from '../helpers/cli.js';
import { haveTmux, TmuxSession } from '../helpers/tty.js';

// SEV-3 must answer within a second, so its respond clock is overdue by the time the board is read.
const SEVERITIES = `levels:
  - id: SEV-1
    name: Major
    definition: Major feature down
    respond_within: 1h
    resolve_within: 4h
    update_every: 30m
  - id: SEV-2
    name: Degraded
    definition: Partial degradation
    respond_within: 1h
    resolve_within: 8h
    update_every: 30m
  - id: SEV-3
    name: Minor
    definition: Minor issue
    respond_within: 1s
    resolve_within: 24h
`;

type Doc = { incidents: { id: string; title: string; declared_at: string; sla: { respond: { state: string } } }[] };

describe('ir status board', () => {
  let home: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  const ids: Record<string, string> = {};
  let session: TmuxSession | undefined;

  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    const runbooks = join(home, 'team-runbooks');
    mkdirSync(runbooks);
    writeFileSync(join(runbooks, 'severities.yaml'), SEVERITIES);
    env = { IR_RUNBOOKS: runbooks };
    const declare = (title: string, sev: string) => {
      const r = ir(home, ['declare', '-t', title, '-s', sev, '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      return json<{ id: string }>(r).id;
    };
    ids.olderSev2 = declare('Older degraded search results for customers in every region of the world', 'SEV-2');
    ids.minorOverdue = declare('Minor: an internal dashboard shows stale data for the billing team since the deploy', 'SEV-3');
    ids.sev1 = declare('Checkout returns 500s for EU customers paying by card through the new payment provider', 'SEV-1');
    ids.newerSev2 = declare('Newer degraded: background jobs delayed by an hour on the eu-west worker pool', 'SEV-2');
  });
  afterAll(() => {
    session?.kill();
    cleanup();
  });

  async function overdueReached(): Promise<Doc> {
    // Waits for a condition (the 1s respond clock running out), not for a duration.
    for (;;) {
      const doc = json<Doc>(ir(home, ['status', '--json'], { env }));
      if (doc.incidents.find((i) => i.id === ids.minorOverdue)?.sla.respond.state === 'overdue') return doc;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('has tmux', () => expect(haveTmux()).toBe(true));

  it('at 80 columns: overdue first, then severity, then age; one line per incident, titles cut with …; local times with the zone named', async () => {
    const doc = await overdueReached();
    const before = Date.now();
    session = new TmuxSession(home, ['status'], { ...env, TZ: 'Asia/Tokyo' }, undefined, { width: 80, height: 30 });
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    const lines = screen.split('\n');
    const header = lines.findIndex((l) => /^ID\s+SEV\s+STATE/.test(l));
    expect(header, screen).toBeGreaterThan(-1);
    const rows = lines.slice(header + 1, header + 5);
    // No row wrapped: each of the four starts with its id, and the line after them is not a continuation.
    expect(rows.map((l) => l.split(/\s+/)[0]), screen).toEqual([ids.minorOverdue, ids.sev1, ids.olderSev2, ids.newerSev2]);
    expect(lines[header + 5]?.trim() ?? '', screen).toBe('');
    for (const row of rows) {
      expect(row.length).toBeLessThanOrEqual(80);
      expect(row).toMatch(/…$/);
    }
    expect(rows[0]).toMatch(/SEV-3\s+investigating\s+.*respond OVERDUE/);
    expect(rows[1]).toMatch(/ Checkout returns/);
    // Declared times are shown in Tokyo time (UTC+9, no DST), and the zone is named.
    expect(screen).toMatch(/Times in Asia\/Tokyo \(GMT\+9\)/);
    // SEV-1's next deadline is its first update, 30m after declaring, shown in Tokyo time: the time
    // alone on the day the board was drawn (Tokyo's), with MM-DD when it falls on the next one. The
    // board was drawn between `before` and now; either moment's day is accepted.
    const declared = new Date(doc.incidents.find((i) => i.id === ids.sev1)!.declared_at);
    const due = new Date(declared.getTime() + 30 * 60_000 + 9 * 3_600_000).toISOString();
    const tokyoDay = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10);
    const shown = (ms: number) => (tokyoDay(ms) === due.slice(0, 10) ? due.slice(11, 16) : `${due.slice(5, 10)} ${due.slice(11, 16)}`);
    expect([shown(before), shown(Date.now())].some((t) => rows[1].includes(` update by ${t} `)), rows[1]).toBe(true);
  });

  it('--json keeps UTC and follows the same order', async () => {
    const doc = await overdueReached();
    expect(doc.incidents.map((i) => i.id)).toEqual([ids.minorOverdue, ids.sev1, ids.olderSev2, ids.newerSev2]);
    for (const i of doc.incidents) expect(i.declared_at).toMatch(/Z$/);
  });

  it('a wide terminal shows all three clocks and whole titles', async () => {
    session?.kill();
    session = new TmuxSession(home, ['status'], { ...env, TZ: 'UTC' }, undefined, { width: 250, height: 30 });
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    expect(screen).toMatch(/ID\s+SEV\s+STATE\s+DECLARED\s+AGE\s+RESPOND\s+RESOLVE\s+NEXT UPDATE\s+TITLE/);
    expect(screen).toContain('Checkout returns 500s for EU customers paying by card through the new payment provider');
    expect(screen).toMatch(/Times in UTC/);
    const declared = json<Doc>(ir(home, ['status', '--json'], { env })).incidents.find((i) => i.id === ids.sev1)!.declared_at;
    expect(screen).toMatch(new RegExp(`${ids.sev1}\\s+SEV-1\\s+investigating\\s+${declared.slice(11, 16)}\\s`));
  });

  it('a pipe gets whole lines (for grep) unless COLUMNS says otherwise', () => {
    const whole = ir(home, ['status'], { env: { ...env, COLUMNS: undefined } });
    expect(whole.stdout).toContain('through the new payment provider');
    const cut = ir(home, ['status'], { env: { ...env, COLUMNS: '80' } });
    for (const line of cut.stdout.split('\n').filter((l) => l.startsWith('INC-'))) expect(line.length).toBeLessThanOrEqual(80);
  });
});
