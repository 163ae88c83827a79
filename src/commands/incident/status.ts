// `ir status`: every open incident with its SLA clocks; `ir status STATE` moves the current one on.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError } from '../../errors.js';
import { checkTransition, parseState, STATES } from '../../core/incident.js';
import { slaView } from '../../core/sla.js';
import { boardWidth, byUrgency, renderBoard, responderZone } from './board.js';
import { appendToIncident } from './mutate.js';
import { incidentJson } from './render.js';
import { messageLine } from '../outbox/list.js';

export interface StatusOptions {
  state?: string;
  note?: string;
  /** Redraw the board as things change, until Ctrl-C. */
  watch?: boolean;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('status')
    .description(`show open incidents and their SLA clocks, or move the current one to a state (${STATES.slice(0, 4).join(' → ')})`)
    .argument('[state]', 'new state for the current incident')
    .option('-m, --note <text>', 'why the state changes')
    .option('-w, --watch', 'redraw the board (clocks, states, roles) as things change, every second on a terminal, until Ctrl-C; piped: a new board per change; with --json, one JSON line per change')
    .addHelpText('after', '\nExamples:\n  ir status\n  ir status --watch\n  ir status mitigating --note "rolled back to v2.14.1"')
    .action(bind((cmd: Command) => run({ state: cmd.args[0], note: cmd.opts().note as string | undefined, watch: cmd.opts().watch as boolean | undefined }, ctx)));
};

export async function run(opts: StatusOptions, ctx: Context): Promise<number> {
  if (opts.watch) {
    if (opts.state || opts.note) throw new UsageError(`--watch shows the board; it does not change state (${opts.state ? `drop "${opts.state}"` : 'drop --note'}, or run \`ir status ${opts.state ?? 'STATE'}\` on its own)`);
    const { watchStatus } = await import('./live.js');
    return watchStatus(ctx);
  }
  if (opts.state) {
    const to = parseState(opts.state);
    await appendToIncident(ctx, (incident) => {
      checkTransition(incident, to);
      return { type: 'incident.state_changed', data: { from: incident.state, to, ...(opts.note ? { reason: opts.note } : {}) } };
    });
    return 0;
  }
  const store = await ctx.store();
  const config = await ctx.severities();
  const now = ctx.now();
  const open = await store.listIncidents();
  const views = byUrgency(open.map((i) => ({ incident: i, sla: slaView(i, config, now) })), config, now);
  if (ctx.json) {
    ctx.printJson({ incidents: views.map((v) => incidentJson(v.incident, v.sla, now)) });
    return 0;
  }
  if (!open.length) {
    ctx.out('No open incidents.');
    return 0;
  }
  const style = await ctx.style();
  const width = boardWidth(ctx.io);
  ctx.out(renderBoard(views, { now, style, env: ctx.env, width, zone: responderZone(ctx.env, await ctx.parseCache()) }));
  // Only shown from the record: status never loads a provider or sends (`ir outbox retry` does).
  const waiting = views.flatMap(({ incident: i }) => (i.messages ?? []).filter((m) => m.state !== 'sent').map((m) => messageLine(i, m, width && width - 2)));
  if (waiting.length) {
    ctx.out(style.yellow(`Outbound messages not sent (\`ir outbox retry\` sends them):`));
    for (const line of waiting) ctx.out(style.yellow(`  ${line}`));
  }
  for (const { incident: i, sla } of views) {
    if (!i.acknowledgedAt && sla.escalationsDue.some((s) => s.after > 0)) {
      ctx.out(style.red(`${i.id}: not acknowledged; by now ${sla.shouldHaveBeenTold.map((s) => s.notify).join(', ')} should have been told (\`ir escalate\`)`));
    }
  }
  return 0;
}
