// The figures a manager reads, driven through ir's own commands with a fixed clock: the deadline a
// status message announces, SLAs judged by the severity in force, time to mitigate.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/cli.js';
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
    expect(customer.stdout).toContain('we will post another update by 2026-11-23 03:37:00Z');
  });
});
