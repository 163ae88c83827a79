// A responder at a real terminal (tmux): run, skip, the typed confirmation of a destructive step,
// checklists; Ctrl-C at a prompt; and a run killed with SIGKILL in the middle of a step, resumed.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, ir, irEnv, json, tempHome } from '../helpers/cli.js';
import { terminalSuite, type TmuxSession } from '../helpers/tty.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runbooks');
const rb = ['--runbooks', FIXTURES];

interface Event {
  type: string;
  data: Record<string, unknown>;
}
const events = (home: string, id: string) => json<{ events: Event[] }>(ir(home, ['timeline', id, '--json'])).events;
const steps = (home: string, id: string) => events(home, id).filter((e) => e.type === 'runbook.step').map((e) => e.data);

describe('interactive runbook run in a pseudo-terminal', () => {
  const term = terminalSuite();
  let session: TmuxSession;

  it('run, skip, typed confirmation for the destructive step (a typo asked again), checklist', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'interactive', '-s', 'SEV-2'])).id;
    const target = join(term.home, 'target-file');
    writeFileSync(target, 'x');
    session = term.open(['runbook', 'interactive', '--var', `target=${target}`, '--incident', id, ...rb]);
    await session.waitFor(/Say hello[\s\S]*hello:/);
    session.keys('Enter'); // Run (the default)
    await session.waitFor(/hello-from-step[\s\S]*skip-me:/);
    session.keys('Down', 'Enter'); // Skip
    await session.waitFor(/Remove the target file[\s\S]*DESTRUCTIVE[\s\S]*wipe:/);
    session.type('Run'); // Skip is preselected: choose Run (asks for confirmation)
    session.keys('Enter');
    await session.waitFor(/Type the step id "wipe"/);
    expect(existsSync(target)).toBe(true); // nothing ran before the confirmation
    session.type('wpie'); // a typo is asked again, not taken as "no"
    session.keys('Enter');
    await session.waitFor(/that is not "wipe"[\s\S]*try 2 of 3/);
    expect(existsSync(target)).toBe(true);
    session.type('wipe');
    session.keys('Enter');
    await session.waitFor(/tick what is confirmed/);
    session.keys('Space', 'Enter'); // tick the first item only
    await session.waitFor(/Tick what is confirmed/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(existsSync(target)).toBe(false);
    const s = steps(term.home, id);
    expect(s.map((d) => [d.step, d.outcome])).toEqual([
      ['hello', 'ok'],
      ['skip-me', 'skipped'],
      ['wipe', 'ok'],
      ['tick', 'checked'],
    ]);
    expect(s[3]).toMatchObject({ checked: ['First thing'], unchecked: ['Second thing'] });
    expect(events(term.home, id).find((e) => e.type === 'runbook.verify')!.data).toMatchObject({ unconfirmed: ['Target file is gone'] });
  });

  it('a mistyped confirmation is asked again, three times at most, then the destructive step is not run', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'wrong confirm', '-s', 'SEV-2'])).id;
    const target = join(term.home, 'keep-me');
    writeFileSync(target, 'x');
    session = term.open(['runbook', 'interactive', '--var', `target=${target}`, '--incident', id, ...rb]);
    await session.waitFor(/hello:/);
    session.keys('Enter');
    await session.waitFor(/skip-me:/);
    session.keys('Down', 'Enter');
    await session.waitFor(/wipe:/);
    session.type('Run');
    session.keys('Enter');
    await session.waitFor(/Type the step id/);
    for (const [n, typo] of ['yes', 'wpie', 'y'].entries()) {
      if (n > 0) await session.waitFor(new RegExp(`try ${n + 1} of 3`));
      session.type(typo);
      session.keys('Enter');
    }
    await session.waitFor(/not confirmed after 3 tries[\s\S]*tick what is confirmed/);
    session.keys('Enter');
    await session.waitFor(/Tick what is confirmed/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(existsSync(target)).toBe(true);
    expect(steps(term.home, id).find((d) => d.step === 'wipe')).toMatchObject({ outcome: 'declined', reason: 'confirmation mistyped 3 times' });
  });

  it('Ctrl-C at a step prompt exits 130, records the interruption, and --resume continues there', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'ctrl-c', '-s', 'SEV-2'])).id;
    session = term.open(['runbook', 'interactive', '--incident', id, ...rb]);
    await session.waitFor(/hello:/);
    session.keys('Enter');
    await session.waitFor(/skip-me:/);
    session.keys('C-c');
    expect(await session.exitCode()).toBe(130);
    const kinds = events(term.home, id).map((e) => e.type);
    expect(kinds.at(-1)).toBe('runbook.interrupted');
    session = term.open(['runbook', 'interactive', '--resume', '--incident', id, ...rb]);
    await session.waitFor(/Resuming RUN-\S+ at step 2 of 4 \(skip-me\)/);
    await session.waitFor(/skip-me:/);
    session.keys('C-c');
    expect(await session.exitCode()).toBe(130);
    expect(steps(term.home, id).map((d) => d.step)).toEqual(['hello']);
    expect(events(term.home, id).filter((e) => e.type === 'runbook.resumed')[0].data).toMatchObject({ step: 'skip-me' });
  });
});

describe('no open incident at a terminal', () => {
  const term = terminalSuite();
  let session: TmuxSession;

  it('offers to declare one, with the runbook title and severity as defaults, then runs', async () => {
    session = term.open(['runbook', 'interactive', ...rb]);
    await session.waitFor(/No open incident\. Declare one for "Interactive choices" now\?/);
    session.keys('Enter'); // yes (default)
    await session.waitFor(/Incident title/);
    session.keys('Enter'); // keep the runbook's title
    await session.waitFor(/Severity/);
    session.keys('Down', 'Down', 'Enter'); // SEV-2
    await session.waitFor(/Declared INC-\d{8}-001 \(SEV-2\)[\s\S]*hello:/);
    session.keys('C-c');
    expect(await session.exitCode()).toBe(130);
    const incidents = json<{ incidents: { id: string; title: string; severity: string }[] }>(ir(term.home, ['list', '--json'])).incidents;
    expect(incidents).toEqual([expect.objectContaining({ title: 'Interactive choices', severity: 'SEV-2' })]);
    expect(events(term.home, incidents[0].id).map((e) => e.type)).toEqual(['incident.declared', 'runbook.started', 'runbook.interrupted']);
  });
});

describe('resume after kill -9 in the middle of a step', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('continues at the interrupted step with the same variables; the timeline shows the interruption', async () => {
    const id = json<{ id: string }>(ir(home, ['declare', '--json', '-t', 'crash', '-s', 'SEV-2'])).id;
    const marker = join(home, 'marker');
    rmSync(marker, { force: true });
    const child = spawn(process.execPath, [BIN, 'runbook', 'resumable', '--yes', '--var', `marker=${marker}`, '--incident', id, ...rb], {
      env: irEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const deadline = Date.now() + 20_000;
    while (!/Step two waits for the marker/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300)); // well inside step two
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));

    // The database opens, the chain verifies, and the run is unfinished at step two.
    expect(ir(home, ['timeline', '--verify']).code).toBe(0);
    expect(steps(home, id).map((d) => d.step)).toEqual(['one']);

    writeFileSync(marker, 'go'); // let the orphan left by the crash finish
    // While that orphan runs, a resume refuses to start step two beside it (runbook-safety.test.ts);
    // once it has ended, the resume runs the step again.
    const gone = Date.now() + 20_000;
    while (orphanAlive(marker) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    const resumed = ir(home, ['runbook', 'resumable', '--resume', '--yes', '--incident', id, ...rb]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/Resuming RUN-\S+ at step 2 of 3 \(two\)/);
    const all = events(home, id);
    const interrupted = all.find((e) => e.type === 'runbook.interrupted');
    expect(interrupted?.data).toMatchObject({ step: 'two', detected: 'on resume' });
    expect(all.find((e) => e.type === 'runbook.resumed')?.data).toMatchObject({ step: 'two' });
    expect(steps(home, id).map((d) => [d.step, d.outcome])).toEqual([
      ['one', 'ok'],
      ['two', 'ok'],
      ['three', 'ok'],
    ]);
    // Same variables: the resumed step used the marker path given to the first process.
    expect(String(steps(home, id)[1].command)).toContain(marker);
    expect(all.at(-1)!.data).toMatchObject({ status: 'completed' });
    expect(ir(home, ['runbook', 'resumable', '--resume', '--yes', '--incident', id, ...rb]).stderr).toMatch(/no unfinished run/);
  });
});

/** A live (not zombie) process whose command line mentions text. */
function orphanAlive(text: string): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0])) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) return true;
    } catch {
      /* exited meanwhile */
    }
  }
  return false;
}

describe('what Enter does: safe defaults, and Back', () => {
  const term = terminalSuite();
  let session: TmuxSession;

  it('Enter never runs a destructive step or a recovery no failure called for, and chooses nothing at an escalation (a check that mentions escalation still runs)', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'defaults', '-s', 'SEV-2'])).id;
    const marker = join(term.home, 'marker');
    writeFileSync(marker, 'x');
    session = term.open(['runbook', 'safe-defaults', '--var', `marker=${marker}`, '--incident', id, ...rb]);
    for (const step of ['probe', 'announce', 'recover', 'wipe']) {
      await session.waitFor(new RegExp(`${step}:`));
      session.keys('Enter');
    }
    await session.waitFor(/page:/);
    session.keys('Enter'); // nothing is preselected: Enter is asked again
    await session.waitFor(/page has no default: choose "Done \(I ran it or passed it on\)" or Skip/);
    session.type('Done');
    session.keys('Enter');
    await session.waitFor(/last:/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(steps(term.home, id).map((d) => [d.step, d.outcome])).toEqual([
      ['probe', 'ok'],
      ['announce', 'done'],
      ['recover', 'skipped'],
      ['wipe', 'skipped'],
      ['page', 'done'],
      ['last', 'ok'],
    ]);
    expect(existsSync(marker)).toBe(true);
    expect(existsSync(`${marker}.recover`)).toBe(false);
    expect(existsSync(`${marker}.last`)).toBe(true);
  });

  it('a recovery reached by its on_failure jump is offered with Run first', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'jumped', '-s', 'SEV-2'])).id;
    const marker = join(term.home, 'jumped');
    session = term.open(['runbook', 'safe-defaults', '--var', `marker=${marker}`, '--var', 'probe_exit=1', '--incident', id, ...rb]);
    await session.waitFor(/probe:/);
    session.keys('Enter');
    await session.waitFor(/jumping to "recover"[\s\S]*recover:/);
    session.keys('Enter');
    await session.waitFor(/wipe:/);
    session.type('Quit');
    session.keys('Enter');
    expect(await session.exitCode()).toBe(130);
    expect(existsSync(`${marker}.recover`)).toBe(true);
  });

  it('Back offers the step before again; the summary counts its latest outcome', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'back', '-s', 'SEV-2'])).id;
    const target = join(term.home, 'back-target');
    writeFileSync(target, 'x');
    session = term.open(['runbook', 'interactive', '--var', `target=${target}`, '--incident', id, ...rb]);
    await session.waitFor(/hello:/);
    session.keys('Enter'); // Run
    await session.waitFor(/hello-from-step[\s\S]*skip-me:/);
    session.type('Back');
    session.keys('Enter');
    await session.waitFor(/back to step 1 \(hello\)[\s\S]*hello:/);
    session.type('Skip');
    session.keys('Enter');
    await session.waitFor(/skip-me:[\s\S]*Back \(to step 1, hello\)/);
    session.type('Skip');
    session.keys('Enter');
    await session.waitFor(/wipe:/);
    session.keys('Enter'); // Skip (preselected)
    await session.waitFor(/tick what is confirmed/);
    session.keys('Enter');
    await session.waitFor(/Tick what is confirmed/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(steps(term.home, id).map((d) => [d.step, d.outcome])).toEqual([
      ['hello', 'ok'],
      ['hello', 'skipped'],
      ['skip-me', 'skipped'],
      ['wipe', 'skipped'],
      ['tick', 'checked'],
    ]);
    expect(events(term.home, id).at(-1)!.data).toMatchObject({ status: 'completed', ok: 1, skipped: 3 });
    expect(existsSync(target)).toBe(true);
  });
});

describe('phase budgets at a prompt', () => {
  const term = terminalSuite();
  let session: TmuxSession;

  it('the overrun is flagged while the responder sits at the menu, then the same question is asked again', async () => {
    const id = json<{ id: string }>(ir(term.home, ['declare', '--json', '-t', 'budget', '-s', 'SEV-2'])).id;
    session = term.open(['runbook', 'budget-prompt', '--incident', id, ...rb]);
    await session.waitFor(/wait-here:/);
    // No key pressed: the note arrives on its own once the 2s budget has passed, and the menu is back.
    await session.waitFor(/Phase "Quick phase" is over its 2s budget[^\n]*\n[\s\S]*wait-here:/);
    expect(events(term.home, id).filter((e) => e.type === 'runbook.phase_overrun').map((e) => e.data)).toEqual([expect.objectContaining({ phase: 'quick', within_s: 2 })]);
    expect(steps(term.home, id)).toEqual([]); // flagged before the step was answered
    session.keys('Enter');
    await session.waitFor(/after:/);
    session.keys('Enter');
    expect(await session.exitCode()).toBe(0);
    expect(steps(term.home, id).map((d) => [d.step, d.outcome])).toEqual([
      ['wait-here', 'noted'],
      ['after', 'ok'],
    ]);
    expect(events(term.home, id).filter((e) => e.type === 'runbook.phase_overrun')).toHaveLength(1);
  });
});
