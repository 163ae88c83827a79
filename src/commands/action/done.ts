// `ir action done N`: mark an action item complete.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { appendToIncident } from '../incident/mutate.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('done')
    .description('mark an action item done')
    .argument('<n>', 'the number from `ir action list`')
    .addHelpText('after', '\nExample:\n  ir action done 2')
    .action(bind((cmd: Command) => run({ n: cmd.args[0] }, ctx)));
};

export async function run(opts: { n: string }, ctx: Context): Promise<number> {
  const n = Number(opts.n);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`"${opts.n}" is not an action number`);
  await appendToIncident(
    ctx,
    (incident) => {
      const item = incident.actions.find((a) => a.n === n);
      if (!item) throw new UserError(`${incident.id} has no action item ${n}`);
      if (item.done) throw new UserError(`action item ${n} is already done`);
      return { type: 'action.done', data: { n, text: item.text } };
    },
    (await ctx.currentOrLatestIncident()).id,
  );
  return 0;
}
