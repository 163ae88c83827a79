// `ir list [--all]`: incidents, newest first.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { slaView } from '../../core/sla.js';
import { age, columns, utc } from '../../io/format.js';
import { incidentJson, severityText } from './render.js';

export interface ListOptions {
  all?: boolean;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('list')
    .alias('ls')
    .description('list open incidents (--all: resolved ones too)')
    .option('-a, --all', 'include resolved incidents')
    .addHelpText('after', '\nExample:\n  ir list --all --json')
    .action(bind((cmd: Command) => run(cmd.opts<ListOptions>(), ctx)));
};

export async function run(opts: ListOptions, ctx: Context): Promise<number> {
  const store = await ctx.store();
  const now = ctx.now();
  const incidents = await store.listIncidents({ all: opts.all });
  if (ctx.json) {
    const config = await ctx.severities();
    ctx.printJson({ incidents: incidents.map((i) => incidentJson(i, slaView(i, config, now), now)) });
    return 0;
  }
  if (!incidents.length) {
    ctx.out(opts.all ? 'No incidents recorded.' : 'No open incidents. (`ir list --all` includes resolved ones.)');
    return 0;
  }
  const style = await ctx.style();
  ctx.out(
    columns(
      ['ID', 'SEV', 'STATE', 'DECLARED (UTC)', 'DURATION', 'COMMANDER', 'TITLE'],
      incidents.map((i) => [
        i.id,
        severityText(i.severity, style),
        i.state,
        utc(i.declaredAt),
        i.resolvedAt ? age(i.declaredAt, new Date(i.resolvedAt)) : age(i.declaredAt, now),
        i.roles.commander ?? '-',
        i.title,
      ]),
    ),
  );
  return 0;
}
