// Questions to the responder. The real prompter loads @inquirer/prompts on first use; tests supply their own.

import { CancelledError } from '../errors.js';

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

/** `signal`: aborting it takes the question away (PromptInterrupted), so the caller can say something and ask again. */
interface Interruptible {
  signal?: AbortSignal;
}

export interface Prompter {
  select<T>(opts: { message: string; choices: Choice<T>[]; default?: T } & Interruptible): Promise<T>;
  input(opts: { message: string; default?: string; validate?: (v: string) => true | string } & Interruptible): Promise<string>;
  password(opts: { message: string } & Interruptible): Promise<string>;
  confirm(opts: { message: string; default?: boolean } & Interruptible): Promise<boolean>;
  checkbox<T>(opts: { message: string; choices: Choice<T>[] } & Interruptible): Promise<T[]>;
}

/** The question was taken away by its caller's signal (not by the responder). */
export class PromptInterrupted extends Error {}

/** Ctrl-C inside inquirer surfaces as ExitPromptError; ir treats it as a cancellation (exit 130). */
function mapCancel(err: unknown, signal?: AbortSignal): never {
  if (signal?.aborted) throw new PromptInterrupted('prompt interrupted');
  if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) {
    throw new CancelledError('cancelled at a prompt; nothing half-done was recorded');
  }
  throw err;
}

export async function inquirerPrompter(): Promise<Prompter> {
  const inq = await import('@inquirer/prompts');
  return {
    select: (o) => inq.select({ message: o.message, choices: o.choices, default: o.default, loop: false, pageSize: 12 }, { signal: o.signal }).catch((e) => mapCancel(e, o.signal)),
    input: (o) => inq.input({ message: o.message, default: o.default, validate: o.validate }, { signal: o.signal }).catch((e) => mapCancel(e, o.signal)),
    password: (o) => inq.password({ message: o.message, mask: false }, { signal: o.signal }).catch((e) => mapCancel(e, o.signal)),
    confirm: (o) => inq.confirm({ message: o.message, default: o.default }, { signal: o.signal }).catch((e) => mapCancel(e, o.signal)),
    checkbox: (o) => inq.checkbox({ message: o.message, choices: o.choices, loop: false, pageSize: 12 }, { signal: o.signal }).catch((e) => mapCancel(e, o.signal)),
  };
}
