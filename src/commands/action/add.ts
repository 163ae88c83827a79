// `ir action add TEXT --owner WHO --due DATE`: an action item on the current incident.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { appendToIncident } from '../incident/mutate.js';

export interface ActionAddOptions {
  text: string;
  owner?: string;
  due?: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('add')
    .description('add an action item to the incident')
    .argument('<text...>', 'what should be done')
    .option('--owner <who>', 'who owns it')
    .option('--due <date>', 'YYYY-MM-DD, or a duration from now such as 14d')
    .addHelpText('after', '\nExample:\n  ir action add "Alert on connection pool saturation" --owner dana --due 2026-12-07')
    .action(bind((cmd: Command) => run({ ...cmd.opts<Omit<ActionAddOptions, 'text'>>(), text: cmd.args.join(' ') }, ctx)));
};

export function parseDue(text: string, now: Date): string {
  const rel = /^(\d+)([dw])$/.exec(text.trim());
  if (rel) return new Date(now.getTime() + Number(rel[1]) * (rel[2] === 'w' ? 7 : 1) * 86_400_000).toISOString().slice(0, 10);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) && !Number.isNaN(Date.parse(text.trim()))) return text.trim();
  throw new UsageError(`--due "${text}" is not a date: use YYYY-MM-DD or a number of days/weeks such as 14d or 2w`);
}

export async function run(opts: ActionAddOptions, ctx: Context): Promise<number> {
  const text = opts.text.trim();
  if (!text) throw new UsageError('an action item needs text');
  const due = opts.due ? parseDue(opts.due, ctx.now()) : undefined;
  // Action items are mostly written after `ir resolve`: with nothing open, the latest incident.
  const target = await ctx.currentOrLatestIncident();
  await appendToIncident(
    ctx,
    (incident) => {
      const n = incident.actions.length + 1;
      return { type: 'action.added', data: { n, text, ...(opts.owner ? { owner: opts.owner } : {}), ...(due ? { due } : {}) } };
    },
    target.id,
  );
  return 0;
}
