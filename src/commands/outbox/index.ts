// `ir outbox [--all]` and `ir outbox retry [MSG]`: the pages and chat posts recorded for sending
// (ir.yaml integrations) and where each stands; retry sends what waits, oldest first.

import type { Register } from '../../cli/program.js';
import * as list from './list.js';
import * as retry from './retry.js';

export const register: Register = (program, ctx, bind) => {
  const group = list.register(program, ctx, bind);
  retry.register(group, ctx, bind);
};
