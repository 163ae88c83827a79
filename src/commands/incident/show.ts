// `ir show [ID]`: the incident card, its SLA state and its timeline.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { slaView } from '../../core/sla.js';
import { jsonArrayClose, jsonArrayOpen, Sink, writeJsonWithPages } from '../../io/sink.js';
import { eventJson, incidentJson, mapPages, renderCard, STREAM_READ, streamTimeline } from './render.js';

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
  // A long timeline in a local SQLite file is rendered on two threads; the helper thread starts now,
  // while the card is put together.
  const style = ctx.json ? undefined : await ctx.style();
  const { startParallel } = await import('./parallel.js');
  const parallel = await startParallel(store, incident.id, { json: ctx.json, style, env: ctx.env });
  try {
    const config = await ctx.severities();
    const now = ctx.now();
    const sla = slaView(incident, config, now);
    // The timeline is streamed: an incident of a million events shows in the memory of a few pages.
    const sink = new Sink(ctx.io.stdout);
    const read = () => store.eventPages(incident.id, STREAM_READ(ctx.json));
    if (!style) {
      const doc = incidentJson(incident, sla, now);
      if (!parallel) {
        await writeJsonWithPages(sink, doc, 'events', mapPages(read(), eventJson));
        return 0;
      }
      await sink.write(jsonArrayOpen(doc, 'events'));
      await sink.write(jsonArrayClose(await parallel.write(sink)));
      await sink.flush();
      return 0;
    }
    await sink.write(`${renderCard(incident, sla, now, style)}\n\n${style.bold('Timeline')}\n`);
    if (parallel) await parallel.write(sink);
    else await streamTimeline(read, style, sink, await store.eventOutline?.(incident.id));
    return 0;
  } finally {
    // Whatever failed before the rows were written (severities.yaml, the output), the helper ends too.
    await parallel?.stop();
  }
}
