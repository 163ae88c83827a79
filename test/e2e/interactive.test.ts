// Prompts in a real terminal: declare asks for what is missing, and Ctrl-C records nothing (exit 130).

import { describe, expect, it } from 'vitest';
import { ir, json } from '../helpers/cli.js';
import { haveTmux, terminalSuite, type TmuxSession } from '../helpers/tty.js';

describe('interactive declare in a pseudo-terminal', () => {
  // .ci/run installs tmux; without it this suite must fail loudly rather than skip.
  it('has tmux', () => expect(haveTmux()).toBe(true));
  const term = terminalSuite();
  let session: TmuxSession;

  it('asks for title and severity (a list showing each definition) and declares', async () => {
    session = term.open(['declare']);
    await session.waitFor(/What is wrong\?/);
    session.type('Login page times out');
    session.keys('Enter');
    const list = await session.waitFor(/Severity/);
    expect(list).toMatch(/SEV-0\s+Critical — Complete outage/);
    // The cursor starts on the least severe level; SEV-1 is three up from SEV-4.
    await session.waitFor(/❯ SEV-4/);
    session.keys('Up', 'Up', 'Up');
    await session.waitFor(/respond within 15m, resolve within 4h/);
    session.keys('Enter');
    await session.waitFor(/When did the problem start/);
    session.keys('Enter');
    await session.waitFor(/Affected service/);
    session.type('auth');
    session.keys('Enter');
    await session.waitFor(/Impact/);
    session.keys('Enter');
    await session.waitFor(/Incident commander/);
    session.keys('C-u');
    session.type('carol');
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    expect(screen).toMatch(/Declared INC-\d{8}-001/);
    const list2 = json<{ incidents: { title: string; severity: string; service: string; roles: Record<string, string> }[] }>(ir(term.home, ['list', '--json']));
    expect(list2.incidents).toEqual([expect.objectContaining({ title: 'Login page times out', severity: 'SEV-1', service: 'auth', roles: { commander: 'carol' } })]);
  });

  it('Enter on the severity list declares the least severe level, and "20m ago" becomes detected_at', async () => {
    session = term.open(['declare', '--title', 'Slow search', '--service', 'search', '--impact', 'slow results', '--commander', 'dan']);
    const list = await session.waitFor(/Severity/);
    expect(list).toMatch(/❯ SEV-4/);
    expect(list).not.toMatch(/❯ SEV-[0-3]/);
    session.keys('Enter');
    await session.waitFor(/When did the problem start\?/);
    session.type('tomorrow-ish');
    session.keys('Enter');
    await session.waitFor(/is not a time/);
    session.keys('C-u');
    session.type('20m ago');
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(session.screen()).toMatch(/started\s+\S+ \S+Z\s+\(20m ago\)/);
    const all = json<{ incidents: { title: string; severity: string; declared_at: string; detected_at: string | null }[] }>(ir(term.home, ['list', '--all', '--json']));
    const inc = all.incidents.find((i) => i.title === 'Slow search')!;
    expect(inc.severity).toBe('SEV-4');
    expect(new Date(inc.declared_at).getTime() - new Date(inc.detected_at!).getTime()).toBeGreaterThanOrEqual(20 * 60_000);
    expect(new Date(inc.declared_at).getTime() - new Date(inc.detected_at!).getTime()).toBeLessThan(21 * 60_000);
  });

  it('a clock time like 02:10 is read in the responder\'s zone (TZ) and recorded in UTC', async () => {
    session = term.open(['declare', '--title', 'Night batch failed', '--service', 'batch', '--impact', 'late reports', '--commander', 'dan'], { TZ: 'Asia/Tokyo' });
    await session.waitFor(/Severity/);
    session.keys('Enter');
    await session.waitFor(/When did the problem start\?/);
    session.type('02:10');
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    const all = json<{ incidents: { title: string; detected_at: string | null }[] }>(ir(term.home, ['list', '--all', '--json']));
    // 02:10 in Tokyo (UTC+9, no DST) is 17:10Z.
    expect(all.incidents.find((i) => i.title === 'Night batch failed')!.detected_at).toMatch(/T17:10:00\.000Z$/);
  });

  it('Ctrl-C at a prompt exits 130 and records nothing half-done', async () => {
    const before = json<{ incidents: unknown[] }>(ir(term.home, ['list', '--all', '--json'])).incidents.length;
    session = term.open(['declare', '--title', 'half-typed']);
    await session.waitFor(/Severity/);
    session.keys('C-c');
    expect(await session.exitCode()).toBe(130);
    expect(session.screen()).toMatch(/cancelled/);
    expect(json<{ incidents: unknown[] }>(ir(term.home, ['list', '--all', '--json'])).incidents).toHaveLength(before);
    expect(ir(term.home, ['timeline', '--verify']).code).toBe(0);
  });

  it('CI=true or --no-input never prompts even on a terminal', async () => {
    session = term.open(['declare', '--no-input', '--severity', 'SEV-2']);
    expect(await session.exitCode()).toBe(2);
    expect(session.screen()).toMatch(/--title is required/);
    session = term.open(['declare', '--severity', 'SEV-2'], { CI: 'true' });
    expect(await session.exitCode()).toBe(2);
  });
});
