// Evidence collection on a terminal: the live progress block, one line per collector.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, ir, json } from '../helpers/cli.js';
import { terminalSuite, type TmuxSession } from '../helpers/tty.js';

describe('evidence collect on a terminal', () => {
  const term = terminalSuite();
  let session: TmuxSession;

  it('shows each collector with its state and bytes, and ends with the summary', async () => {
    ir(term.home, ['declare', '-t', 'tty evidence', '-s', 'SEV-3']);
    session = term.open(['evidence', 'collect', '--only', 'deploy-history,pool-settings', '--runbooks', join(ROOT, 'test', 'fixtures', 'evidence-team')]);
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    expect(screen).toMatch(/deploy-history\s+ok\s+108 B/);
    expect(screen).toMatch(/pool-settings\s+ok\s+70 B/);
    expect(screen).toMatch(/EV-\d{8}T\d{6}-1 complete: 2 files/);
    const list = json<{ collections: { status?: string; state?: string }[] }>(ir(term.home, ['evidence', 'list', '--json']));
    expect(list.collections).toHaveLength(1);
  });
});
