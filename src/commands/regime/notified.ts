// `ir regime notified gdpr --ref "DPA case 2026-114" [--at TIME] [--by WHO]`: the authority was told;
// stops the clock and keeps the evidence of notification for the postmortem.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { findRegime, liveClock, regimesOf, regimeView } from '../../core/regime.js';
import { utc } from '../../io/format.js';
import { parseWhen } from '../incident/declare.js';
import { eventJson } from '../incident/render.js';
import { regimeJson, regimeStateText } from './render.js';

export interface RegimeNotifiedOptions {
  regime: string;
  ref?: string;
  at?: string;
  by?: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('notified')
    .description('record that the authority was notified: stops the clock, keeps the reference as evidence')
    .argument('<regime>', 'the regime id, e.g. gdpr')
    .option('--ref <text>', 'the evidence: case number, ticket, message id')
    .option('--at <time>', 'when they were notified, if not now: a duration ago (2h), a time today (02:10) or ISO-8601')
    .option('--by <who>', 'who notified them (default: you)')
    .addHelpText('after', '\nExample:\n  ir regime notified gdpr --ref "DPA case 2026-114" --by "dana (DPO)"')
    .action(bind((cmd: Command) => run({ ...cmd.opts<Omit<RegimeNotifiedOptions, 'regime'>>(), regime: cmd.args[0] }, ctx)));
};

export async function run(opts: RegimeNotifiedOptions, ctx: Context): Promise<number> {
  const config = await ctx.severities();
  const regime = findRegime(regimesOf(config), opts.regime, config.file, 'ir regime notified');
  const now = ctx.now();
  const at = opts.at !== undefined ? parseWhen(opts.at, now, '--at') : now;
  if (at.getTime() > now.getTime()) throw new UsageError(`--at "${opts.at}" is in the future`);
  let ref = opts.ref?.trim();
  if (opts.ref !== undefined && !ref) throw new UsageError('--ref is empty: give the case number, ticket or message id the authority has');
  if (!ref) {
    const p = await ctx.prompter('--ref');
    ref = (await p.input({ message: `Reference for the ${regime.name} notification (case number, ticket, message id)`, validate: (v) => (v.trim() ? true : 'a reference is the evidence; it is required') })).trim();
  }
  const by = opts.by?.trim() || ctx.actor();
  const target = await ctx.currentOrLatestIncident();
  const store = await ctx.store();
  const result = await store.append(
    target.id,
    (incident) => {
      const clock = liveClock(incident, regime.id);
      if (!clock) throw new UserError(`${incident.id} has no ${regime.name} clock: start it with \`ir regime add ${regime.id}\``);
      if (clock.notifiedAt) throw new UserError(`${incident.id}: ${regime.name} was already recorded notified at ${utc(clock.notifiedAt)} by ${clock.notifiedBy}${clock.ref ? ` (ref ${clock.ref})` : ''}`);
      if (at.getTime() < new Date(clock.discoveredAt).getTime()) throw new UsageError(`--at ${utc(at)} is before the discovery (${utc(clock.discoveredAt)})`);
      return { type: 'regime.notified', data: { regime: regime.id, name: clock.name, notified_at: at.toISOString(), by, ref } };
    },
    now,
    ctx.actor(),
  );
  const view = regimeView(liveClock(result.incident, regime.id)!, now);
  if (ctx.json) {
    ctx.printJson({ incident: result.incident.id, regime: regimeJson(view), events: result.events.map(eventJson) });
    return 0;
  }
  const style = await ctx.style();
  ctx.out(`${result.incident.id}: ${view.clock.name} ${regimeStateText(view, (d) => utc(d), style)}`);
  return 0;
}
