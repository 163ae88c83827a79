// `ir assign ROLE PERSON`: who is commander, scribe, comms, or a role of the team's own.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UsageError, UserError } from '../../errors.js';
import { normalizeRole } from '../../core/incident.js';
import { appendToIncident } from './mutate.js';

export interface AssignOptions {
  role: string;
  person: string;
}

export const register: Register = (program, ctx, bind) => {
  program
    .command('assign')
    .description('give a role (commander, scribe, comms, or your own) to a person')
    .argument('<role>', 'commander, scribe, comms, or a role of your own')
    .argument('<person>', 'who takes it')
    .addHelpText('after', '\nExample:\n  ir assign scribe "Dana Kim"')
    .action(bind((cmd: Command) => run({ role: cmd.args[0], person: cmd.args[1] }, ctx)));
};

export async function run(opts: AssignOptions, ctx: Context): Promise<number> {
  const role = normalizeRole(opts.role);
  const person = opts.person.trim();
  if (!person) throw new UsageError('assign needs a person');
  await appendToIncident(ctx, (incident) => {
    if (incident.state === 'resolved') throw new UserError(`${incident.id} is resolved; reopen it first`);
    const previous = incident.roles[role];
    if (previous === person) throw new UserError(`${person} is already ${role} of ${incident.id}`);
    return { type: 'incident.role_assigned', data: { role, person, ...(previous ? { previous } : {}) } };
  });
  return 0;
}
