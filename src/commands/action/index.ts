// `ir action add|list|done`: the group for postmortem action items.

import type { Register } from '../../cli/program.js';
import * as add from './add.js';
import * as list from './list.js';
import * as done from './done.js';

export const register: Register = (program, ctx, bind) => {
  const group = program.command('action').description('postmortem action items: add, list, done');
  for (const sub of [add.register, list.register, done.register]) sub(group, ctx, bind);
};
