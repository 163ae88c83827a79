// `ir reopen --reason TEXT`: a resolved incident comes back; the clocks resume from the declaration.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { appendToIncident } from './mutate.js';

export interface ReopenOptions {
  reason?: string;
  id?: string;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('reopen')
    .description('reopen a resolved incident')
    .argument('[id]', 'the incident (default --incident / IR_INCIDENT)')
    .option('-r, --reason <text>', 'why it is reopened (required)')
    .addHelpText('after', '\nExample:\n  ir reopen INC-20261123-001 --reason "errors are back after the cache warmed"')
    .action(bind((cmd: Command) => run({ id: cmd.args[0], reason: cmd.opts().reason as string | undefined }, ctx)));
};

export async function run(opts: ReopenOptions, ctx: Context): Promise<number> {
  const reason = opts.reason?.trim();
  if (!reason) throw new UsageError('--reason is required: say why the incident is reopened');
  const id = opts.id ?? ctx.globals.incident ?? ctx.env.IR_INCIDENT;
  if (!id) {
    // Resolved incidents are not "current"; name the most recent resolved one in the message.
    const store = await ctx.store();
    const recent = (await store.listIncidents({ all: true })).find((i) => i.state === 'resolved');
    throw new UsageError(`name the incident to reopen: ir reopen ${recent?.id ?? 'ID'} --reason TEXT`);
  }
  await appendToIncident(
    ctx,
    (incident) => {
      if (incident.state !== 'resolved') throw new UserError(`${incident.id} is not resolved (it is ${incident.state})`);
      return { type: 'incident.reopened', data: { reason } };
    },
    id,
  );
  return 0;
}
