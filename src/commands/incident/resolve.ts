// `ir resolve --summary TEXT`: close the incident; the resolve-by clock stops.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { appendToIncident } from './mutate.js';

export interface ResolveOptions {
  summary?: string;
  rootCause?: string;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('resolve')
    .description('resolve the incident with a summary')
    .option('--summary <text>', 'what happened and what fixed it (required)')
    .option('--root-cause <text>', 'the root cause, when known')
    .addHelpText('after', '\nExample:\n  ir resolve --summary "rolled back v2.15.0; errors at baseline" --root-cause "connection pool size halved in v2.15.0"')
    .action(bind((cmd: Command) => run(cmd.opts<ResolveOptions>(), ctx)));
};

export async function run(opts: ResolveOptions, ctx: Context): Promise<number> {
  let summary = opts.summary?.trim();
  if (!summary) {
    const p = await ctx.prompter('--summary');
    summary = (await p.input({ message: 'Summary: what happened and what fixed it', validate: (v) => (v.trim() ? true : 'a summary is required') })).trim();
  }
  const rootCause = opts.rootCause?.trim();
  const { incident } = await appendToIncident(ctx, (current) => {
    if (current.state === 'resolved') throw new UserError(`${current.id} is already resolved`);
    return { type: 'incident.resolved', data: { summary, ...(rootCause ? { root_cause: rootCause } : {}), from: current.state } };
  });
  if (!ctx.json) ctx.err(`${incident.id} resolved. \`ir show ${incident.id}\` has the full timeline.`);
  return 0;
}
