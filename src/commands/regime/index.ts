// `ir regime add|notified|list|remove`: the group for regulatory deadline clocks (GDPR, PCI DSS, SOX…).

import type { Register } from '../../cli/program.js';
import * as add from './add.js';
import * as notified from './notified.js';
import * as list from './list.js';
import * as remove from './remove.js';

export const register: Register = (program, ctx, bind) => {
  const group = program.command('regime').description('regulatory deadline clocks (GDPR 72h, PCI DSS 24h, SOX immediately): add, notified, list, remove');
  for (const sub of [add.register, notified.register, list.register, remove.register]) sub(group, ctx, bind);
};
