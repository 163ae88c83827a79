// `ir ack`: acknowledge the incident, stopping the respond-by clock.

import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { UserError } from '../../errors.js';
import { appendToIncident } from './mutate.js';
import { notifier, slackText } from './notify.js';

export const register: Register = (program, ctx, bind) => {
  program
    .command('ack')
    .description('acknowledge the incident (stops the respond-by clock)')
    .addHelpText('after', '\nExample:\n  ir ack --incident INC-20261123-001')
    .action(bind(() => run({}, ctx)));
};

export async function run(_opts: object, ctx: Context): Promise<number> {
  const notify = await notifier(ctx);
  const text = { summary: '', note: `Acknowledged in ir by ${ctx.actor()}`, slack: await slackText([`Acknowledged by ${ctx.actor()}.`]) };
  const { incident } = await appendToIncident(ctx, (incident) => {
    if (incident.state === 'resolved') throw new UserError(`${incident.id} is resolved`);
    if (incident.acknowledgedAt) {
      throw new UserError(`${incident.id} was already acknowledged by ${incident.acknowledgedBy} at ${incident.acknowledgedAt}`);
    }
    const ack = { type: 'incident.acknowledged', data: {} };
    return notify ? [ack, ...notify.plan(incident, { kind: 'ack', text })] : ack;
  });
  await notify?.send(incident.id);
  return 0;
}
