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
    session.keys('Down');
    await session.waitFor(/respond within 15m, resolve within 4h/);
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
