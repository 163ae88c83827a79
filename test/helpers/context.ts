// In-process harness: run ir's commands with captured streams, a fixed clock and a scripted prompter.

import type { Choice, Prompter } from '../../src/io/prompter.js';
import type { Clock } from '../../src/context.js';
import { run } from '../../src/main.js';

export class FixedClock implements Clock {
  private t: number;
  constructor(iso: string) {
    this.t = Date.parse(iso);
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

type Answer = { kind: keyof Prompter; match: RegExp; answer: unknown };

/**
 * A prompter that answers from a script, in order. A question nobody scripted, or one asked in a
 * different order, throws; `done()` fails when a scripted question was never asked.
 */
export class ScriptedPrompter implements Prompter {
  readonly asked: string[] = [];
  private readonly script: Answer[] = [];

  expect(kind: keyof Prompter, match: RegExp, answer: unknown): this {
    this.script.push({ kind, match, answer });
    return this;
  }

  private next(kind: keyof Prompter, message: string, choices?: Choice<unknown>[]): unknown {
    this.asked.push(message);
    const step = this.script.shift();
    if (!step) throw new Error(`unexpected ${kind} prompt: "${message}"`);
    if (step.kind !== kind || !step.match.test(message)) {
      throw new Error(`expected ${step.kind} prompt matching ${step.match}, got ${kind} "${message}"`);
    }
    if (choices && !choices.some((c) => Object.is(c.value, step.answer) || JSON.stringify(c.value) === JSON.stringify(step.answer))) {
      throw new Error(`"${message}" offers no choice ${JSON.stringify(step.answer)}: ${choices.map((c) => JSON.stringify(c.value)).join(', ')}`);
    }
    return step.answer;
  }

  done(): void {
    if (this.script.length) throw new Error(`prompts never asked: ${this.script.map((s) => `${s.kind} ${s.match}`).join(', ')}`);
  }

  async select<T>(o: { message: string; choices: Choice<T>[] }): Promise<T> {
    return this.next('select', o.message, o.choices as Choice<unknown>[]) as T;
  }
  async input(o: { message: string }): Promise<string> {
    return this.next('input', o.message) as string;
  }
  async password(o: { message: string }): Promise<string> {
    return this.next('password', o.message) as string;
  }
  async confirm(o: { message: string }): Promise<boolean> {
    return this.next('confirm', o.message) as boolean;
  }
  async checkbox<T>(o: { message: string; choices: Choice<T>[] }): Promise<T[]> {
    return this.next('checkbox', o.message) as T[];
  }
}

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ir args` in this process with IR_HOME=home. */
export async function runIr(
  home: string,
  args: string[],
  opts: { clock?: Clock; prompter?: Prompter; env?: Record<string, string>; cwd?: string } = {},
): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    io: {
      stdout: { write: (s: string | Uint8Array) => ((stdout += String(s)), true) },
      stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) },
      stdin: process.stdin,
      env: { PATH: process.env.PATH, HOME: home, IR_HOME: home, IR_USER: 'tester', NO_COLOR: '1', ...opts.env },
      cwd: opts.cwd ?? home,
    },
    clock: opts.clock,
    prompter: opts.prompter,
    interactive: opts.prompter ? true : false,
  });
  return { code, stdout, stderr };
}
