// `ir timeline [ID] [--verify]`: the events in order, or a walk of the hash chain that proves them.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { eventJson, renderTimeline } from './render.js';

export interface TimelineOptions {
  id?: string;
  verify?: boolean;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('timeline')
    .description('print the timeline; --verify checks its hash chain (exit 1 names the first bad event)')
    .argument('[id]', 'the incident (default: the current one; with --verify and no incident, all of them)')
    .option('--verify', 'walk the sha256 chain and report the first event that does not match')
    .addHelpText('after', '\nExamples:\n  ir timeline INC-20261123-001\n  ir timeline --verify')
    .action(bind((cmd: Command) => run({ id: cmd.args[0], verify: cmd.opts().verify as boolean | undefined }, ctx)));
};

export async function run(opts: TimelineOptions, ctx: Context): Promise<number> {
  const store = await ctx.store();
  if (opts.verify) {
    const named = opts.id ?? ctx.globals.incident ?? ctx.env.IR_INCIDENT;
    if (named && !store.getIncident(named)) throw new UserError(`no incident ${named}`);
    const result = store.verify(named);
    if (ctx.json) {
      ctx.printJson({
        ok: result.ok,
        incidents: result.incidents,
        events: result.events,
        problems: result.problems.map((p) => ({ incident: p.incidentId, seq: p.seq ?? null, reason: p.reason })),
      });
    } else if (result.ok) {
      ctx.out(`timeline intact: ${result.events} events in ${result.incidents} incident${result.incidents === 1 ? '' : 's'}, every hash verified`);
    } else {
      for (const p of result.problems) ctx.out(`TAMPERED ${p.incidentId} event ${p.seq ?? '?'}: ${p.reason}`);
    }
    return result.ok ? 0 : 1;
  }
  const incident = await ctx.currentIncident(opts.id);
  const events = store.events(incident.id);
  if (ctx.json) {
    ctx.printJson({ incident: incident.id, events: events.map(eventJson) });
    return 0;
  }
  ctx.out(renderTimeline(events, await ctx.style()));
  return 0;
}
