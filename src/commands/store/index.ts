// `ir store …`: the store itself rather than an incident: status, grants for a responder role, and
// migrating a home's incidents into the team store. Each subcommand is a Register in its own file;
// add one (e.g. sync.ts) by listing it in STORE_SUBCOMMANDS.

import type { Register } from '../../cli/program.js';
import * as status from './status.js';
import * as grants from './grants.js';
import * as migrate from './migrate.js';

export const STORE_SUBCOMMANDS: Register[] = [status.register, grants.register, migrate.register];

export const register: Register = (program, ctx, bind) => {
  const group = program
    .command('store')
    .description('the store itself: status, grants for responders, migrate local incidents to the team store')
    .addHelpText(
      'after',
      '\nExamples:\n  ir store status\n  ir store grants --role ir_responder\n  ir store migrate --to postgres://alice@db.internal:5432/ir',
    );
  for (const add of STORE_SUBCOMMANDS) add(group, ctx, bind);
};
