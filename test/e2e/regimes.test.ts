// Regulatory deadline clocks (issue #13): a security incident under GDPR and PCI DSS read on a fixed
// clock at 23h and 25h after discovery, GDPR notified, the postmortem's table — on SQLite and on
// the PostgreSQL team store — and the bad-input paths of the definitions and the flag.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { irAsync, json, ROOT, tempHome, type RunResult } from '../helpers/cli.js';
import { createDatabase, startPostgres, type PostgresServer } from '../helpers/services.js';

const FIXED_CLOCK = join(ROOT, 'test', 'helpers', 'fixed-clock.mjs');
/** Discovery of the breach: every reading below is counted from here. */
const T = Date.parse('2026-11-24T09:00:00Z');
const at = (hours: number) => new Date(T + hours * 3_600_000).toISOString();

type RegimeDoc = { regime: string; state: string; remaining_seconds: number | null; due_at: string; notified_at: string | null; ref: string | null };

/** ir as spawned by a user, with "now" fixed at `hours` after discovery and times shown in UTC. */
function irAt(home: string, hours: number, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return irAsync(home, args, { env: { TZ: 'UTC', NODE_OPTIONS: `--import ${FIXED_CLOCK}`, IR_TEST_NOW: at(hours), ...env } });
}

async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** The whole story on one store; `env` selects it (IR_STORE for the team store). */
async function breachStory(home: string, env: Record<string, string>): Promise<void> {
  const declared = json<{ id: string; regimes: RegimeDoc[] }>(
    await ok(irAt(home, 0.5, ['declare', '--json', '-t', 'Card numbers in a public bucket', '-s', 'SEV-1', '--regime', 'gdpr,pci', '--discovered', '2026-11-24T09:00:00Z'], env)),
  );
  const id = declared.id;
  expect(declared.regimes.map((r) => [r.regime, r.due_at])).toEqual([
    ['gdpr', '2026-11-27T09:00:00.000Z'],
    ['pci', '2026-11-25T09:00:00.000Z'],
  ]);

  // T+23h: PCI has an hour left, GDPR 49 hours.
  const at23 = await ok(irAt(home, 23, ['status'], env));
  expect(at23.stdout).toContain(`${id} regulatory deadlines:\n  GDPR     supervisory authority via the DPO  due 11-27 09:00 (in 49h)\n  PCI DSS  card brands and acquirer           due 09:00 (in 1h)\n`);
  const doc23 = json<{ incidents: { id: string; regimes: RegimeDoc[] }[] }>(await ok(irAt(home, 23, ['status', '--json'], env)));
  expect(doc23.incidents[0].regimes.map((r) => [r.regime, r.state, r.remaining_seconds])).toEqual([
    ['gdpr', 'running', 49 * 3600],
    ['pci', 'running', 3600],
  ]);

  // T+25h: PCI is overdue.
  const at25 = await ok(irAt(home, 25, ['status'], env));
  expect(at25.stdout).toContain(`  GDPR     supervisory authority via the DPO  due 11-27 09:00 (in 47h)\n  PCI DSS  card brands and acquirer           OVERDUE by 1h (due 09:00)\n`);
  const list25 = json<{ regimes: RegimeDoc[] }>(await ok(irAt(home, 25, ['regime', 'list', '--json'], env)));
  expect(list25.regimes.map((r) => [r.regime, r.state, r.remaining_seconds])).toEqual([
    ['gdpr', 'running', 47 * 3600],
    ['pci', 'overdue', -3600],
  ]);

  // The internal update lists the open deadlines; the customer message does not mention them.
  const update = await ok(irAt(home, 25, ['comms', 'update', '--message', 'Bucket closed'], env));
  expect(update.stdout).toContain('*Regulatory deadlines:*\n• GDPR: notify supervisory authority via the DPO by 2026-11-27 09:00:00Z (in 47h)\n• PCI DSS: notify card brands and acquirer — OVERDUE by 1h\n');
  const customer = await ok(irAt(home, 25, ['comms', 'customer'], env));
  expect(customer.stdout).not.toMatch(/GDPR|PCI|regulatory/i);

  // T+30h: the DPO has filed with the authority.
  const told = await ok(irAt(home, 30, ['regime', 'notified', 'gdpr', '--ref', 'DPA case 2026-114'], env));
  expect(told.stdout).toBe(`${id}: GDPR notified 30h after discovery (ref DPA case 2026-114): met\n`);
  const again = await irAt(home, 30, ['regime', 'notified', 'gdpr', '--ref', 'again'], env);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('GDPR was already recorded notified at 2026-11-25 15:00:00Z by tester (ref DPA case 2026-114)');
  const at30 = await ok(irAt(home, 30, ['regime', 'list'], env));
  expect(at30.stdout).toBe(
    `${id}: regulatory clocks (times in UTC)\n` +
      '  GDPR     supervisory authority via the DPO  notified 30h after discovery (ref DPA case 2026-114): met\n' +
      '  PCI DSS  card brands and acquirer           OVERDUE by 6h (due 2026-11-25 09:00:00Z)\n',
  );

  await ok(irAt(home, 31, ['resolve', '--summary', 'Bucket made private; keys rotated'], env));
  const pm = await ok(irAt(home, 31, ['postmortem'], env));
  const table = pm.stdout.slice(pm.stdout.indexOf('## Regulatory notifications'), pm.stdout.indexOf('\nEach deadline'));
  expect(table).toBe(
    '## Regulatory notifications\n\n' +
      '| Regime | Notify | Discovered | Deadline | Notified at | By | Ref | Result |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- |\n' +
      '| GDPR | supervisory authority via the DPO | 2026-11-24 09:00:00Z | 2026-11-27 09:00:00Z (72h after discovery) | 2026-11-25 15:00:00Z | tester | DPA case 2026-114 | met |\n' +
      '| PCI DSS | card brands and acquirer | 2026-11-24 09:00:00Z | 2026-11-25 09:00:00Z (24h after discovery) | — | — | — | missed (not notified) |\n',
  );
  // The clocks are events in the chain like everything else.
  await ok(irAt(home, 31, ['timeline', '--verify'], env));
}

describe('regulatory deadline clocks', () => {
  const local = tempHome('ir-regimes-');
  const team = tempHome('ir-regimes-team-');
  let pg: PostgresServer | undefined;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ir-regimes-runbooks-'));
  });
  afterAll(async () => {
    local.cleanup();
    team.cleanup();
    rmSync(dir, { recursive: true, force: true });
    await pg?.stop();
  });

  it('GDPR and PCI from discovery: status at 23h and 25h, GDPR notified at 30h, the postmortem table (SQLite)', async () => {
    await breachStory(local.home, {});
  }, 120_000);

  it('the same story on the PostgreSQL team store', async () => {
    pg = await startPostgres();
    const url = createDatabase(pg, 'regimes');
    await breachStory(team.home, { IR_STORE: url });
  }, 180_000);

  it('a postmortem without regimes has no regulatory table', async () => {
    const { home, cleanup } = tempHome();
    try {
      await ok(irAt(home, 0, ['declare', '-t', 'Slow search', '-s', 'SEV-3']));
      const pm = await ok(irAt(home, 1, ['postmortem', '--draft']));
      expect(pm.stdout).not.toContain('Regulatory notifications');
    } finally {
      cleanup();
    }
  }, 60_000);

  it('an unknown --regime is exit 2 naming the ids and the file, and nothing is declared', async () => {
    const { home, cleanup } = tempHome();
    try {
      const r = await irAt(home, 0, ['declare', '-t', 'Leak', '-s', 'SEV-1', '--regime', 'gdpr,foo']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('ir: --regime: unknown regime "foo": runbooks/severities.yaml defines gdpr, pci, sox\n');
      const all = json<{ incidents: unknown[] }>(await ok(irAt(home, 0, ['list', '--all', '--json'])));
      expect(all.incidents).toEqual([]);
      await ok(irAt(home, 0, ['declare', '-t', 'Leak', '-s', 'SEV-1']));
      const add = await irAt(home, 0, ['regime', 'add', 'hipaa']);
      expect(add.code).toBe(2);
      expect(add.stderr).toContain('unknown regime "hipaa": runbooks/severities.yaml defines gdpr, pci, sox');
    } finally {
      cleanup();
    }
  }, 60_000);

  it('a bad regime in severities.yaml is reported at file:line:col with exit 2; a team can override and add regimes', async () => {
    const levels = 'levels:\n  - id: SEV-1\n    name: Major\n    definition: Major feature down\n    respond_within: 1h\n    resolve_within: 4h\n';
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'severities.yaml'), `${levels}regimes:\n  - id: gdpr\n    within: 3 days\n  - id: hipaa\n    name: HIPAA\n    within: 60d\n`);
    const { home, cleanup } = tempHome();
    try {
      const r = await irAt(home, 0, ['declare', '-t', 'Leak', '-s', 'SEV-1', '--regime', 'gdpr'], { IR_RUNBOOKS: bad });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${join(bad, 'severities.yaml')}:9:13: "within" is "3 days": expected a duration such as 90s, 5m, 1h or 1h30m, or immediately`);
      expect(r.stderr).toContain(`${join(bad, 'severities.yaml')}:10:5: regime "hipaa" is new: it needs "notify" (who must be told)`);
      expect(r.stderr).not.toMatch(/\n\s+at /);

      const good = join(dir, 'good');
      mkdirSync(good);
      writeFileSync(join(good, 'severities.yaml'), `${levels}regimes:\n  - id: gdpr\n    within: 48h\n  - id: hipaa\n    name: HIPAA\n    notify: HHS and affected individuals\n    within: 60d\n`);
      const d = json<{ regimes: RegimeDoc[] }>(await ok(irAt(home, 0, ['declare', '--json', '-t', 'Leak', '-s', 'SEV-1', '--regime', 'gdpr', '--regime', 'hipaa', '--discovered', '2h'], { IR_RUNBOOKS: good })));
      expect(d.regimes.map((x) => [x.regime, x.due_at])).toEqual([
        ['gdpr', at(46)],
        ['hipaa', at(60 * 24 - 2)],
      ]);
    } finally {
      cleanup();
    }
  }, 60_000);

  it('SOX "immediately" is overdue from discovery until notified, and a withdrawn clock keeps its reason', async () => {
    const { home, cleanup } = tempHome();
    try {
      await ok(irAt(home, 0, ['declare', '-t', 'Ledger job altered', '-s', 'SEV-1', '--detected-at', '2026-11-23T21:00:00Z']));
      // No --discovered: the clock counts from when the problem began (--detected-at).
      await ok(irAt(home, 0, ['regime', 'add', 'sox', 'pci']));
      const st = await ok(irAt(home, 2, ['status']));
      expect(st.stdout).toContain('  SOX      audit committee           due immediately (discovered 11-23 21:00): OVERDUE by 14h\n');
      const noReason = await irAt(home, 2, ['regime', 'remove', 'pci']);
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain('--reason is required');
      await ok(irAt(home, 2, ['regime', 'remove', 'pci', '--reason', 'no cardholder data in the ledger']));
      await ok(irAt(home, 3, ['regime', 'notified', 'sox', '--ref', 'AC minutes 7', '--at', '2026-11-24T10:00:00Z', '--by', 'cfo']));
      const list = json<{ regimes: (RegimeDoc & { removed_reason: string | null; notified_by: string | null })[] }>(await ok(irAt(home, 3, ['regime', 'list', '--json'])));
      expect(list.regimes.map((r) => [r.regime, r.state, r.notified_by, r.removed_reason])).toEqual([
        ['sox', 'missed', 'cfo', null],
        ['pci', 'removed', null, 'no cardholder data in the ledger'],
      ]);
      const tl = await ok(irAt(home, 3, ['timeline']));
      expect(tl.stdout).toContain('Regulatory clock withdrawn: PCI DSS — no cardholder data in the ledger');
    } finally {
      cleanup();
    }
  }, 60_000);
});
