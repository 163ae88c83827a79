// `ir store …`: the store ir records into — the team's PostgreSQL or this machine's SQLite file:
// its status, the grants for a responder role, migrating local incidents into the team store, and
// syncing the outbox. Each subcommand is a Register in its own file.

import type { Register } from '../../cli/program.js';
import * as status from './status.js';
import * as sync from './sync.js';
import * as migrate from './migrate.js';
import * as grants from './grants.js';

export const STORE_SUBCOMMANDS: Register[] = [status.register, sync.register, migrate.register, grants.register];

export const register: Register = (program, ctx, bind) => {
  const group = program
    .command('store')
    .description('the store itself: status, sync the outbox, migrate local incidents to the team store, grants for responders')
    .addHelpText(
      'after',
      '\nExamples:\n  ir store status\n  ir store sync\n  ir store migrate --to postgres://alice@db.internal:5432/ir\n  ir store grants --role ir_responder',
    );
  for (const add of STORE_SUBCOMMANDS) add(group, ctx, bind);
};
