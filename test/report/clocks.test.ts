// The figures a manager reads, driven through ir's own commands with a fixed clock: the deadline a
// status message announces, SLAs judged by the severity in force, time to mitigate, the zone
// customer messages are written in.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ir as spawnIr, ROOT, tempHome } from '../helpers/cli.js';
import { FixedClock, runIr } from '../helpers/context.js';

const M = 60_000;

describe('a status message carries the deadline it creates', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('an update 7m after the declaration announces the next one 15m after itself, and `ir status` agrees', async () => {
    const clock = new FixedClock('2026-11-23T03:12:00.000Z');
    const ir = async (args: string[]) => {
      const r = await runIr(home, args, { clock });
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    await ir(['declare', '-t', 'Search is slow', '-s', 'SEV-1']);
    clock.advance(7 * M);
    const preview = await ir(['comms', 'update', '--preview']);
    expect(preview.stdout).toContain('*Next update:* by 2026-11-23 03:34:00Z');
    const update = await ir(['comms', 'update', '--message', 'Shard rebalanced']);
    expect(update.stdout).toContain('*Next update:* by 2026-11-23 03:34:00Z');
    expect(update.stdout).not.toContain('03:27:00Z');
    const status = JSON.parse((await ir(['status', '--json'])).stdout) as { incidents: { sla: { update: { due: string } } }[] };
    expect(status.incidents[0].sla.update.due).toBe('2026-11-23T03:34:00.000Z');
    // The customer message promises the same: it is recorded too, and restarts the clock again.
    clock.advance(3 * M);
    const customer = await ir(['comms', 'customer']);
    expect(customer.stdout).toContain('we will post another update by 2026-11-23 03:37 UTC.');
  });
});

describe('SLAs are judged against the severity in force while their clock ran', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('a raise after a timely acknowledgement leaves it met; a cut after a late one leaves it breached; the report shows the changes on the clock', async () => {
    const clock = new FixedClock('2026-11-23T10:00:00.000Z');
    const ir = async (args: string[]) => {
      const r = await runIr(home, args, { clock });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const show = async (id: string) => JSON.parse((await ir(['show', id, '--json'])).stdout) as { sla: { respond: { state: string; due: string }; resolve: { state: string } }; mitigated_at: string | null };
    const raised = JSON.parse((await ir(['declare', '--json', '-t', 'Checkout slow', '-s', 'SEV-2'])).stdout).id as string;
    clock.advance(20 * M);
    await ir(['ack', '--incident', raised]); // 20m: within SEV-2's 30m, not SEV-1's 15m
    clock.advance(20 * M);
    await ir(['severity', 'SEV-1', '--reason', 'payments failing in two regions', '--incident', raised]);
    expect((await show(raised)).sla.respond).toMatchObject({ state: 'met', due: '2026-11-23T10:30:00.000Z' });
    expect((await ir(['show', raised])).stdout).toMatch(/respond by +2026-11-23 10:30:00Z +met/);

    // Mitigation begun at 10:45, the impact stopped at 11:00: time to mitigate is 1h, not 45m.
    clock.advance(5 * M);
    await ir(['status', 'mitigating', '--note', 'rolling back', '--incident', raised]);
    expect((await show(raised)).mitigated_at).toBeNull();
    clock.advance(15 * M);
    await ir(['status', 'monitoring', '--note', 'errors at baseline', '--incident', raised]);
    expect((await show(raised)).mitigated_at).toBe('2026-11-23T11:00:00.000Z');
    clock.advance(30 * M);
    await ir(['resolve', '--summary', 'rolled back', '--incident', raised]);

    const cut = JSON.parse((await ir(['declare', '--json', '-t', 'Login errors', '-s', 'SEV-1'])).stdout).id as string;
    clock.advance(20 * M);
    await ir(['ack', '--incident', cut]); // 20m: past SEV-1's 15m
    clock.advance(10 * M);
    await ir(['severity', 'SEV-3', '--reason', 'only the admin login', '--incident', cut]);
    expect((await show(cut)).sla.respond.state).toBe('breached');
    clock.advance(10 * M);
    await ir(['resolve', '--summary', 'config fixed', '--incident', cut]);

    const report = (await ir(['postmortem', raised])).stdout;
    expect(report).toContain('| Time to acknowledge | 20m | 30m (SEV-2) | met |');
    expect(report).toContain('| Time to mitigate (declared → impact stopped) | 1h00m | — | — |');
    expect(report).toContain('| Time to resolve | 1h30m | 4h00m (SEV-1) | met |');
    expect(report).toContain('Severity changes on the clock (UTC):\n- SEV-2 → SEV-1 at 10:40: payments failing in two regions\n');
    expect(report).toContain('time to acknowledge against\nthe severity when it was acknowledged (SEV-2)');
    expect(report).toMatch(/Time to mitigate runs from the declaration until the impact\nstopped: the first move to monitoring/);
    expect((await ir(['postmortem', cut])).stdout).toContain('| Time to acknowledge | 20m | 15m (SEV-1) | breached |');

    const m = JSON.parse((await ir(['metrics', '--json'])).stdout);
    expect(m.by_severity['SEV-1'].respond_sla).toEqual({ measured: 1, met: 1, rate: 100 });
    expect(m.by_severity['SEV-3'].respond_sla).toEqual({ measured: 1, met: 0, rate: 0 });
    expect(m.by_severity['SEV-1'].mttm).toMatchObject({ n: 1, mean_s: 3600 });
  });
});

describe("customer messages use the team's time zone; everything else stays UTC", () => {
  let home: string;
  let cleanup: () => void;
  let team: string;
  beforeAll(() => {
    ({ home, cleanup } = tempHome());
    team = join(home, 'team');
    mkdirSync(team, { recursive: true });
    const shipped = readFileSync(join(ROOT, 'runbooks', 'severities.yaml'), 'utf8');
    writeFileSync(join(team, 'severities.yaml'), `${shipped}\ncomms:\n  timezone: Europe/Berlin\n`);
  });
  afterAll(() => cleanup());

  it('comms.timezone in severities.yaml sets the zone of customer messages, with its summer time', async () => {
    const clock = new FixedClock('2026-11-23T03:12:00.000Z');
    const ir = async (args: string[]) => {
      const r = await runIr(home, [...args, '--runbooks', team], { clock });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    await ir(['declare', '-t', 'Checkout slow', '-s', 'SEV-1', '--service', 'checkout']);
    clock.advance(7 * M);
    const customer = await ir(['comms', 'customer']);
    expect(customer.stdout).toContain('we will post another update by 2026-11-23 04:34 CET.');
    // The team's own channel, the record and --json stay UTC.
    expect((await ir(['comms', 'update', '--preview'])).stdout).toContain('*Next update:* by 2026-11-23 03:34:00Z');
    const events = JSON.parse((await ir(['timeline', '--json'])).stdout).events as { at: string }[];
    expect(events.at(-1)!.at).toBe('2026-11-23T03:19:00.000Z');
    clock.advance(40 * M);
    await ir(['resolve', '--summary', 'fixed']);
    expect((await ir(['comms', 'customer'])).stdout).toContain('has been resolved as of 2026-11-23 04:59 CET.');

    const summer = new FixedClock('2026-07-01T12:00:00.000Z');
    const r = await runIr(home, ['declare', '-t', 'Summer', '-s', 'SEV-1', '--runbooks', team], { clock: summer });
    expect(r.code, r.stderr).toBe(0);
    const msg = await runIr(home, ['comms', 'customer', '--preview', '--runbooks', team], { clock: summer });
    expect(msg.stdout).toContain('another update by 2026-07-01 14:15 CEST.');
  });

  it('the spawned ir writes the customer message in the zone and records it in UTC', () => {
    const own = join(home, 'spawned');
    mkdirSync(own, { recursive: true });
    expect(spawnIr(own, ['declare', '-t', 'Spawned', '-s', 'SEV-1', '--runbooks', team]).code).toBe(0);
    const r = spawnIr(own, ['comms', 'customer', '--runbooks', team]);
    expect(r.code, r.stderr).toBe(0);
    const at = (JSON.parse(spawnIr(own, ['timeline', '--json']).stdout).events as { at: string; type: string }[]).at(-1)!;
    expect(at.type).toBe('comms.sent');
    expect(at.at).toMatch(/Z$/);
    const due = new Date(Date.parse(at.at) + 15 * M);
    // Berlin is UTC+1 (CET) in winter and UTC+2 (CEST) in summer.
    const shown = /another update by (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) (CES?T)\./.exec(r.stdout);
    expect(shown, r.stdout).not.toBeNull();
    const offset = shown![2] === 'CEST' ? 2 : 1;
    const berlin = new Date(due.getTime() + offset * 60 * M).toISOString();
    expect(shown![1]).toBe(`${berlin.slice(0, 10)} ${berlin.slice(11, 16)}`);
  });

  it('a zone that does not exist stops with exit 2 naming the file, line and field (spawned ir)', () => {
    const bad = join(home, 'bad');
    mkdirSync(bad, { recursive: true });
    copyFileSync(join(ROOT, 'runbooks', 'severities.yaml'), join(bad, 'severities.yaml'));
    const text = readFileSync(join(bad, 'severities.yaml'), 'utf8');
    writeFileSync(join(bad, 'severities.yaml'), `${text}\ncomms:\n  timezone: Europe/Atlantis\n`);
    const line = text.split('\n').length + 2;
    const r = spawnIr(home, ['comms', 'customer', '--preview', '--runbooks', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`severities\\.yaml:${line}:\\d+: "timezone" is "Europe/Atlantis": expected an IANA time zone`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
