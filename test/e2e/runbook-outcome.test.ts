// What a run adds up to: the summary of a resumed run counts the whole run, and a failing optional
// check does not turn a run whose required steps succeeded into a failed one.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, ir, json, tempHome } from '../helpers/cli.js';
import { terminalSuite } from '../helpers/tty.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');
const rb = ['--runbooks', FIXTURES];

interface Event {
  type: string;
  data: Record<string, unknown>;
}
const events = (home: string, id: string) => json<{ events: Event[] }>(ir(home, ['timeline', id, '--json'])).events;
const declare = (home: string, title: string) => json<{ id: string }>(ir(home, ['declare', '--json', '-t', title, '-s', 'SEV-2'])).id;

describe('the summary of a resumed run', () => {
  const term = terminalSuite();

  it('counts the steps done before the interruption, on screen and in runbook.finished', async () => {
    const id = declare(term.home, 'resume counts');
    const target = join(term.home, 'target');
    writeFileSync(target, 'x');
    const session = term.open(['runbook', 'interactive', '--var', `target=${target}`, '--incident', id, ...rb]);
    await session.waitFor(/hello:/);
    session.keys('Enter'); // Run
    await session.waitFor(/hello-from-step[\s\S]*skip-me:/);
    session.keys('C-c');
    expect(await session.exitCode()).toBe(130);

    // hello ran before Ctrl-C; skip-me runs after the resume; wipe (destructive) and tick (no terminal) are skipped.
    const r = ir(term.home, ['runbook', 'interactive', '--resume', '--yes', '--incident', id, ...rb]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Runbook interactive completed: 2 done, 0 failed, 2 skipped/);
    expect(events(term.home, id).find((e) => e.type === 'runbook.finished')!.data).toMatchObject({ status: 'completed', ok: 2, failed: 0, skipped: 2 });
  });
});

describe('a failing optional check', () => {
  const term = terminalSuite();

  it('with on_failure: continue, leaves the run completed_with_failures (exit 0), said on screen and recorded', async () => {
    const id = declare(term.home, 'optional check');
    const session = term.open(['runbook', 'optional-check', '--incident', id, ...rb]);
    await session.waitFor(/probe:/);
    session.keys('Enter'); // Run
    await session.waitFor(/stats:/);
    session.keys('Up', 'Enter'); // an optional step offers Skip first: choose Run
    await session.waitFor(/fix:/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(session.screen()).toMatch(/Runbook optional-check completed, with 1 optional check failing: 2 done, 1 failed, 0 skipped/);
    const all = events(term.home, id);
    expect(all.find((e) => e.type === 'runbook.step' && e.data.step === 'stats')!.data).toMatchObject({ outcome: 'failed', on_failure: 'continue' });
    expect(all.find((e) => e.type === 'runbook.finished')!.data).toMatchObject({ status: 'completed_with_failures', ok: 2, failed: 1, optional_failed: 1 });
  });

  it('a required step failing still makes the run failed (exit 1)', () => {
    const { home, cleanup } = tempHome();
    try {
      const id = declare(home, 'required check');
      const r = ir(home, ['runbook', 'optional-check', '--yes', '--var', 'probe_exit=1', '--incident', id, ...rb]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Runbook optional-check failed: 1 done, 1 failed, 1 skipped/);
      expect(events(home, id).at(-1)!.data).toMatchObject({ status: 'failed', failed: 1, optional_failed: 0 });
    } finally {
      cleanup();
    }
  });
});

describe('what the timeline records for each choice', () => {
  const term = terminalSuite();

  it('a skipped step keeps its command, ticked items are named, Done is done, Quit is quit, the exit status is said once, and the resume hint names the incident', async () => {
    declare(term.home, 'another open incident');
    const id = declare(term.home, 'recording');
    const session = term.open(['runbook', 'recording', '--incident', id, ...rb]);
    await session.waitFor(/Which value\?/);
    session.keys('Enter'); // no answer: the step that needs it is skipped
    await session.waitFor(/tell:/);
    session.keys('Enter'); // Done
    await session.waitFor(/tick what is confirmed/);
    session.keys('Space', 'Enter'); // the first item only
    await session.waitFor(/fails:/);
    session.keys('Enter'); // Run
    await session.waitFor(/bye:/);
    session.type('Quit');
    session.keys('Enter');
    expect(await session.exitCode()).toBe(130);
    const screen = session.screen();
    expect(screen).toMatch(/✘ exit 1 \(expected 0\) · \d/);
    expect(screen).not.toMatch(/exit 1 \(expected 0\) · exit 1/);
    expect(screen).toContain(`ir runbook recording --resume --incident ${id}`);
    expect(screen).toMatch(/confirmed: First thing/);

    const all = events(term.home, id);
    const step = (name: string) => all.find((e) => e.type === 'runbook.step' && e.data.step === name)!.data;
    expect(step('use-later')).toMatchObject({ outcome: 'skipped', command: 'echo {{later}}' });
    expect(step('tell')).toMatchObject({ outcome: 'done', command: 'page the on-call' });
    expect(step('tick')).toMatchObject({ checked: ['First thing'], unchecked: ['Second thing'] });
    expect(all.at(-1)).toMatchObject({ type: 'runbook.interrupted', data: { step: 'bye', reason: 'quit by the responder (menu)' } });
    const text = ir(term.home, ['timeline', id]).stdout;
    expect(text).toContain('ticked: First thing');
    expect(text).toContain('`echo {{later}}`');
  });
});
