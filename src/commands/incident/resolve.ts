// `ir resolve --summary TEXT`: close the incident; the resolve-by clock stops.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { appendToIncident } from './mutate.js';
import { notifier, slackText } from './notify.js';
import { deriveActions } from '../../core/actions.js';

export interface ResolveOptions {
  summary?: string;
  rootCause?: string;
  followUps?: boolean;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('resolve')
    .description('resolve the incident with a summary')
    .option('--summary <text>', 'what happened and what fixed it (required)')
    .option('--root-cause <text>', 'the root cause, when known')
    .option('--follow-ups', "add every runbook follow_up item as an action item without asking")
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
  const notify = await notifier(ctx);
  const [safeSummary] = notify ? await notify.redact([summary]) : [summary];
  const text = { summary: '', note: `Resolved in ir by ${ctx.actor()}: ${safeSummary}`, slack: await slackText([`Resolved by ${ctx.actor()}: ${safeSummary}`]) };
  const { incident } = await appendToIncident(ctx, (current) => {
    if (current.state === 'resolved') throw new UserError(`${current.id} is already resolved`);
    const resolved = { type: 'incident.resolved', data: { summary, ...(rootCause ? { root_cause: rootCause } : {}), from: current.state } };
    return notify ? [resolved, ...notify.plan(current, { kind: 'resolve', text })] : resolved;
  });
  await notify?.send(incident.id);
  await offerFollowUps(ctx, incident.id, opts.followUps === true);
  if (!ctx.json) ctx.err(`${incident.id} resolved. Next: \`ir comms resolved\`, then \`ir postmortem ${incident.id}\`.`);
  return 0;
}

/** The runbooks' follow_up items become action items: all with --follow-ups, or as ticked on a terminal. */
async function offerFollowUps(ctx: Context, incidentId: string, all: boolean): Promise<void> {
  const store = await ctx.store();
  const events = await store.events(incidentId);
  const existing = new Set(deriveActions(events).map((a) => a.text));
  const suggested = [...new Set(events.filter((e) => e.type === 'runbook.finished' && Array.isArray(e.data.follow_up)).flatMap((e) => e.data.follow_up as string[]))].filter((f) => !existing.has(f));
  if (!suggested.length) return;
  let chosen: string[] = [];
  if (all) chosen = suggested;
  else if (ctx.canPrompt) {
    const p = await ctx.prompter('--follow-ups');
    chosen = await p.checkbox({ message: 'Runbook follow-ups: tick those to keep as action items', choices: suggested.map((f) => ({ name: f, value: f })) });
  } else {
    if (!ctx.json) ctx.err(`Runbook follow-ups not yet action items (add them with --follow-ups or \`ir action add\`):\n${suggested.map((f) => `  - ${f}`).join('\n')}`);
    return;
  }
  if (!chosen.length) return;
  await store.append(
    incidentId,
    (incident) => {
      const first = incident.actions.length + 1;
      return chosen.map((text, i) => ({ type: 'action.added', data: { n: first + i, text, source: 'runbook follow_up' } }));
    },
    ctx.now(),
    ctx.actor(),
  );
  if (!ctx.json) ctx.err(`Added ${chosen.length} action item${chosen.length === 1 ? '' : 's'} from runbook follow-ups (\`ir action list\`).`);
}
