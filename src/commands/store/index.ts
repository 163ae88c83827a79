// `ir store …`: the store ir records into — the team's PostgreSQL or this machine's SQLite file.

import type { Register } from '../../cli/program.js';
import * as sync from './sync.js';

export const register: Register = (program, ctx, bind) => {
  const group = program.command('store').description('the team store: sync the outbox');
  for (const sub of [sync.register]) sub(group, ctx, bind);
};
