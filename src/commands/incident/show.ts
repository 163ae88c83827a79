// `ir show [ID]`: the incident card, its SLA state and its timeline.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { slaView } from '../../core/sla.js';
import { eventJson, incidentJson, renderCard, renderTimeline } from './render.js';

export const register: Register = (program, ctx, bind) => {
  program
    .command('show')
    .description('show an incident: card, SLA clocks, timeline')
    .argument('[id]', 'the incident (default: the current one)')
    .addHelpText('after', '\nExample:\n  ir show INC-20261123-001')
    .action(bind((cmd: Command) => run({ id: cmd.args[0] }, ctx)));
};

export async function run(opts: { id?: string }, ctx: Context): Promise<number> {
  const incident = await ctx.currentIncident(opts.id);
  const store = await ctx.store();
  const config = await ctx.severities();
  const now = ctx.now();
  const sla = slaView(incident, config, now);
  const events = await store.events(incident.id);
  if (ctx.json) {
    ctx.printJson({ ...incidentJson(incident, sla, now), events: events.map(eventJson) });
    return 0;
  }
  const style = await ctx.style();
  ctx.out(renderCard(incident, sla, now, style));
  ctx.out('');
  ctx.out(style.bold('Timeline'));
  ctx.out(renderTimeline(events, style));
  return 0;
}
