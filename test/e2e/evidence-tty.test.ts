// Evidence collection on a terminal: the live progress block, one line per collector.

import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ir, json, tempHome } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tty.js';

describe('evidence collect on a terminal', () => {
  let home: string;
  let cleanup: () => void;
  let session: TmuxSession | undefined;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterEach(() => session?.kill());
  afterAll(() => cleanup());

  it('shows each collector with its state and bytes, and ends with the summary', async () => {
    ir(home, ['declare', '-t', 'tty evidence', '-s', 'SEV-3']);
    session = new TmuxSession(home, ['evidence', 'collect', '--only', 'deploy-history,pool-settings', '--runbooks', join(ROOT, 'test', 'fixtures', 'evidence-team')]);
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    expect(screen).toMatch(/deploy-history\s+ok\s+108 B/);
    expect(screen).toMatch(/pool-settings\s+ok\s+70 B/);
    expect(screen).toMatch(/EV-\d{8}T\d{6}-1 complete: 2 files/);
    const list = json<{ collections: { status?: string; state?: string }[] }>(ir(home, ['evidence', 'list', '--json']));
    expect(list.collections).toHaveLength(1);
  });
});
