// Questions to the responder. The real prompter loads @inquirer/prompts on first use; tests supply their own.

import { CancelledError } from '../errors.js';

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

export interface Prompter {
  select<T>(opts: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  input(opts: { message: string; default?: string; validate?: (v: string) => true | string }): Promise<string>;
  password(opts: { message: string }): Promise<string>;
  confirm(opts: { message: string; default?: boolean }): Promise<boolean>;
  checkbox<T>(opts: { message: string; choices: Choice<T>[] }): Promise<T[]>;
}

/** Ctrl-C inside inquirer surfaces as ExitPromptError; ir treats it as a cancellation (exit 130). */
function mapCancel(err: unknown): never {
  if (err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError')) {
    throw new CancelledError('cancelled at a prompt; nothing half-done was recorded');
  }
  throw err;
}

export async function inquirerPrompter(): Promise<Prompter> {
  const inq = await import('@inquirer/prompts');
  return {
    select: (o) => inq.select({ message: o.message, choices: o.choices, default: o.default, loop: false, pageSize: 12 }).catch(mapCancel),
    input: (o) => inq.input({ message: o.message, default: o.default, validate: o.validate }).catch(mapCancel),
    password: (o) => inq.password({ message: o.message, mask: false }).catch(mapCancel),
    confirm: (o) => inq.confirm({ message: o.message, default: o.default }).catch(mapCancel),
    checkbox: (o) => inq.checkbox({ message: o.message, choices: o.choices, loop: false, pageSize: 12 }).catch(mapCancel),
  };
}
