// `ir escalate [--reason TEXT]`: record that the next level of the escalation chain was called.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { formatDuration } from '../../util/duration.js';
import { appendToIncident } from './mutate.js';
import { notifier } from './notify.js';

export const register: Register = (program, ctx, bind) => {
  program
    .command('escalate')
    .description('escalate to the next level of the chain in severities.yaml')
    .option('-r, --reason <text>', 'why (e.g. "primary did not answer")')
    .addHelpText('after', '\nExample:\n  ir escalate --reason "primary has not acknowledged after 15m"')
    .action(bind((cmd: Command) => run(cmd.opts<{ reason?: string }>(), ctx)));
};

export async function run(opts: { reason?: string }, ctx: Context): Promise<number> {
  const { slackEscape: slack } = await import('../../report/webhook.js');
  const config = await ctx.severities();
  if (!config.escalation.length) throw new UserError(`${config.file} defines no escalation chain`);
  const notify = await notifier(ctx);
  // A target whose name matches no step would silently page nobody: say so while it can be fixed.
  for (const t of notify?.team.escalation ?? []) {
    if (!config.escalation.some((s) => s.notify.toLowerCase() === t.notify.toLowerCase())) {
      ctx.err(`${notify!.team.file}: escalation target "${t.notify}" matches no step of ${config.file} (${config.escalation.map((s) => s.notify).join(', ')})`);
    }
  }
  const target = notify ? await ctx.currentIncident() : undefined;
  const [summary, reason] = notify ? await notify.redact([target!.title, opts.reason ?? '']) : ['', ''];
  const { incident: after } = await appendToIncident(ctx, (incident) => {
    if (incident.state === 'resolved') throw new UserError(`${incident.id} is resolved`);
    // Steps due at 0m are the people the declaration itself notifies.
    let level = incident.escalationLevel + 1;
    while (level < config.escalation.length && config.escalation[level].after === 0 && incident.escalationLevel < 0) level++;
    const step = config.escalation[level];
    if (!step) throw new UserError(`${incident.id} is already escalated to the last level (${config.escalation[config.escalation.length - 1].notify})`);
    const escalated = {
      type: 'incident.escalated',
      data: { level, notify: step.notify, ...(step.contact ? { contact: step.contact } : {}), due_after: formatDuration(step.after), ...(opts.reason ? { reason: opts.reason } : {}) },
    };
    if (!notify) return escalated;
    const line = `Escalated to ${step.notify}${step.contact ? ` (${step.contact})` : ''}${reason ? `: ${reason}` : ''}`;
    return [escalated, ...notify.plan(incident, { kind: 'escalate', notify: step.notify, text: { summary, note: line, slack: slack(line) } })];
  });
  await notify?.send(after.id);
  return 0;
}
