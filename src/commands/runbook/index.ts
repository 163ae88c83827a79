// `ir runbook …`: the one command group for runbooks. Every subcommand registers into the group
// through RUNBOOK_SUBCOMMANDS: to add one (e.g. `ir runbook run`), write a
// `(group, ctx, bind) => void` that calls `group.command(...)` and append it to the list.

import type { Register } from '../../cli/program.js';
import * as validate from './validate.js';
import * as list from './list.js';
import * as show from './show.js';
import { registerRun } from './run.js';
import * as importPlaybooks from './import.js';

/** Same shape as Register, called with the `runbook` group instead of the root program. */
export const RUNBOOK_SUBCOMMANDS: Register[] = [list.register, show.register, validate.register, registerRun, importPlaybooks.register];

export const register: Register = (program, ctx, bind) => {
  const group = program
    .command('runbook')
    .description('find, check and follow runbooks')
    .addHelpText('after', '\nExamples:\n  ir runbook list\n  ir runbook show redis-failure\n  ir runbook redis-failure            # follow it step by step\n  ir runbook redis-failure --yes      # run the non-destructive checks without asking\n  ir runbook validate');
  for (const add of RUNBOOK_SUBCOMMANDS) add(group, ctx, bind);
};
