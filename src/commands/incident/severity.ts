// `ir severity LEVEL --reason TEXT`: raise or lower the severity; the SLA clocks follow the new level.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { findLevel, rank } from '../../core/severity.js';
import { appendToIncident } from './mutate.js';
import { notifier } from './notify.js';

export interface SeverityOptions {
  level: string;
  reason?: string;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('severity')
    .description('change the severity, with the reason')
    .argument('<level>', 'a level from severities.yaml')
    .option('-r, --reason <text>', 'why the severity changes (required)')
    .addHelpText('after', '\nExample:\n  ir severity SEV-0 --reason "all regions affected now"')
    .action(bind((cmd: Command) => run({ level: cmd.args[0], reason: cmd.opts().reason as string | undefined }, ctx)));
};

export async function run(opts: SeverityOptions, ctx: Context): Promise<number> {
  const { slackEscape: slackLine } = await import('../../report/webhook.js');
  const config = await ctx.severities();
  const level = findLevel(config, opts.level);
  if (!level) throw new UsageError(`unknown severity "${opts.level}": ${config.file} defines ${config.levels.map((l) => l.id).join(', ')}`);
  let reason = opts.reason?.trim();
  if (!reason) {
    const p = await ctx.prompter('--reason');
    reason = (await p.input({ message: 'Why does the severity change?', validate: (v) => (v.trim() ? true : 'a reason is required') })).trim();
  }
  const notify = await notifier(ctx);
  const target = notify ? await ctx.currentIncident() : undefined;
  const [summary, safeReason] = notify ? await notify.redact([target!.title, reason]) : ['', ''];
  const { incident: after } = await appendToIncident(ctx, (incident) => {
    if (incident.state === 'resolved') throw new UserError(`${incident.id} is resolved; reopen it first`);
    if (incident.severity === level.id) throw new UserError(`${incident.id} is already ${level.id}`);
    const direction = rank(config, level.id) < rank(config, incident.severity) ? 'raised' : 'lowered';
    const changed = { type: 'incident.severity_changed', data: { from: incident.severity, to: level.id, reason, direction } };
    if (!notify) return changed;
    const line = `Severity ${direction} ${incident.severity} → ${level.id}: ${safeReason}`;
    return [changed, ...notify.plan(incident, { kind: 'severity', severity: level.id, text: { summary, note: line, slack: slackLine(line) } })];
  });
  await notify?.send(after.id);
  return 0;
}
