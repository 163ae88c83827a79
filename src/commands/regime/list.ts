// `ir regime list [--json]`: each regulatory clock of the incident: due, remaining or overdue, notified, ref.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { hoursText, regimesOf, regimeViews } from '../../core/regime.js';
import { utc } from '../../io/format.js';
import { regimeJson, regimeLines } from './render.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('list')
    .description("the incident's regulatory clocks (or, with none, the regimes defined)")
    .addHelpText('after', '\nExamples:\n  ir regime list\n  ir regime list --json')
    .action(bind((_cmd: Command) => run(ctx)));
};

export async function run(ctx: Context): Promise<number> {
  const incident = await ctx.currentOrLatestIncident();
  const now = ctx.now();
  const views = regimeViews(incident, now);
  if (ctx.json) {
    ctx.printJson({ incident: incident.id, regimes: views.map(regimeJson) });
    return 0;
  }
  if (!views.length) {
    const config = await ctx.severities();
    ctx.out(`${incident.id} has no regulatory clocks. ${config.file} defines:`);
    for (const r of regimesOf(config)) ctx.out(`  ${r.id.padEnd(8)}${r.name}: notify ${r.notify} ${r.withinMs ? `within ${hoursText(r.withinMs)}` : 'immediately'}`);
    ctx.out('Start one with `ir regime add ID`.');
    return 0;
  }
  const style = await ctx.style();
  ctx.out(`${incident.id}: regulatory clocks (times in UTC)`);
  for (const line of regimeLines(views, (d) => utc(d), style)) ctx.out(line);
  return 0;
}
