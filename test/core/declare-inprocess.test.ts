// `ir declare` driven in-process: scripted prompts, a fixed clock, exact deadlines.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/cli.js';
import { FixedClock, runIr, ScriptedPrompter } from '../helpers/context.js';

describe('declare in-process', () => {
  let home: string;
  let cleanup: () => void;
  beforeAll(() => ({ home, cleanup } = tempHome()));
  afterAll(() => cleanup());

  it('prompts for what is missing and prints exact deadlines', async () => {
    const clock = new FixedClock('2026-11-23T03:12:00.000Z');
    const prompter = new ScriptedPrompter()
      .expect('input', /What is wrong/, 'Payments failing')
      .expect('select', /Severity/, 'SEV-0')
      .expect('input', /When did the problem start/, '')
      .expect('input', /service/, 'payments')
      .expect('input', /Impact/, 'no card payments')
      .expect('input', /commander/, 'erin');
    const r = await runIr(home, ['declare'], { clock, prompter });
    prompter.done();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Declared INC-20261123-001  SEV-0 (Critical)  Payments failing');
    expect(r.stdout).toContain('respond by   2026-11-23 03:17:00Z  (in 5m)');
    expect(r.stdout).toContain('resolve by   2026-11-23 04:12:00Z  (in 1h00m)');
    expect(r.stdout).toContain('next update  2026-11-23 03:27:00Z  (every 15m)');

    clock.advance(7 * 60_000);
    const status = await runIr(home, ['status'], { clock, env: { TZ: 'UTC' } });
    expect(status.stdout).toMatch(/INC-20261123-001\s+SEV-0\s+investigating\s+03:12\s+7m\s+OVERDUE 2m\s+53m left\s+8m left\s+Payments failing/);
    clock.advance(10 * 60_000);
    const late = await runIr(home, ['status'], { clock });
    expect(late.stdout).toMatch(/not acknowledged; by now Primary on-call, Secondary on-call should have been told/);
  });

  it('the scripted prompter fails on a question nobody expected, and on one never asked', async () => {
    const short = new ScriptedPrompter().expect('input', /What is wrong/, 'x').expect('select', /Severity/, 'SEV-3');
    const r = await runIr(home, ['declare'], { prompter: short });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unexpected input prompt: "When did the problem start/);
    const extra = new ScriptedPrompter().expect('input', /What is wrong/, 'never asked');
    const ok = await runIr(home, ['declare', '-t', 'given', '-s', 'SEV-4'], { prompter: extra });
    expect(ok.code).toBe(0);
    expect(() => extra.done()).toThrow(/prompts never asked/);
  });
});
