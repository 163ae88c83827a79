// `ir regime remove pci --reason "no cardholder data involved"`: withdraw a clock that does not apply.
// The clock and why it was withdrawn stay in the timeline and the postmortem; nothing is deleted.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { findRegime, liveClock, regimesOf } from '../../core/regime.js';
import { appendToIncident } from '../incident/mutate.js';

export interface RegimeRemoveOptions {
  regime: string;
  reason?: string;
}

export const register: Register = (group, ctx, bind) => {
  group
    .command('remove')
    .description('withdraw a clock that turned out not to apply, saying why (kept in the timeline)')
    .argument('<regime>', 'the regime id, e.g. pci')
    .option('--reason <text>', 'why the regime does not apply (required)')
    .addHelpText('after', '\nExample:\n  ir regime remove pci --reason "Forensics: no cardholder data in the exposed bucket"')
    .action(bind((cmd: Command) => run({ regime: cmd.args[0], reason: cmd.opts().reason as string | undefined }, ctx)));
};

export async function run(opts: RegimeRemoveOptions, ctx: Context): Promise<number> {
  const config = await ctx.severities();
  const regime = findRegime(regimesOf(config), opts.regime, config.file, 'ir regime remove');
  const reason = opts.reason?.trim();
  // A regulator may later ask why nobody was told: the answer has to be on the record.
  if (!reason) throw new UsageError('--reason is required: say why the regime does not apply');
  const target = await ctx.currentOrLatestIncident();
  await appendToIncident(
    ctx,
    (incident) => {
      const clock = liveClock(incident, regime.id);
      if (!clock) throw new UserError(`${incident.id} has no ${regime.name} clock to withdraw`);
      if (clock.notifiedAt) throw new UserError(`${incident.id}: ${regime.name} was already notified; a notification is not withdrawn`);
      return { type: 'regime.removed', data: { regime: regime.id, name: clock.name, reason } };
    },
    target.id,
  );
  return 0;
}
