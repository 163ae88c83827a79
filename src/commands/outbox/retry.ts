// `ir outbox retry [MSG]`: sends the pending messages now (all incidents, or one message and the
// ones queued before it for the same provider), within one budget; exit 1 when something still waits.

import type { Command } from 'commander';
import type { Bind } from '../../cli/program.js';
import { hostname } from 'node:os';
import type { Context } from '../../context.js';
import { OperationError, UsageError } from '../../errors.js';
import type { Incident } from '../../core/incident.js';
import { messageJson } from './list.js';

export function register(group: Command, ctx: Context, bind: Bind): void {
  group
    .command('retry')
    .description('send pending messages now, oldest first; with MSG (INC-…/m2, or m2 for the current incident) that one, even if it failed')
    .argument('[msg]', 'a message id from `ir outbox`')
    .action(bind((cmd: Command) => run({ msg: cmd.args[0] }, ctx)));
}

export async function run(opts: { msg?: string }, ctx: Context): Promise<number> {
  const store = await ctx.store();
  let targets: { incident: Incident; only?: Set<string> }[];
  if (opts.msg) {
    const m = /^(?:(.+)\/)?(m\d+)$/i.exec(opts.msg.trim());
    if (!m) throw new UsageError(`"${opts.msg}" is not a message id: use INC-…/m2 as \`ir outbox\` shows it (or m2 for the current incident)`);
    const incident = await ctx.currentIncident(m[1]);
    const id = m[2].toLowerCase();
    if (!(incident.messages ?? []).some((x) => x.id === id)) throw new UsageError(`${incident.id} has no message ${id}; \`ir outbox --all\` lists them`);
    targets = [{ incident, only: new Set([id]) }];
  } else {
    targets = (await store.listIncidents({ all: true })).filter((i) => (i.messages ?? []).some((x) => x.state === 'pending')).map((incident) => ({ incident }));
  }
  const { budgetFromEnv, outcomeLine, sendPending } = await import('../../notify/send.js');
  const { budgetMs, backoffMs } = budgetFromEnv(ctx.env);
  const deadline = Date.now() + budgetMs;
  const outcomes = [];
  for (const t of targets) {
    outcomes.push(...(await sendPending(store, t.incident.id, { env: ctx.env, deadline, backoffMs, now: () => ctx.now(), actor: ctx.actor(), sender: `${hostname()}/${process.pid}`, only: t.only, again: Boolean(t.only) })));
  }
  const left = outcomes.filter((o) => o.state !== 'sent');
  if (ctx.json) {
    const after = await Promise.all(targets.map((t) => store.getIncident(t.incident.id)));
    const ids = new Set(outcomes.map((o) => `${o.incidentId}/${o.message.id}`));
    ctx.printJson({ messages: after.flatMap((i) => (i ? (i.messages ?? []).filter((m) => ids.has(`${i.id}/${m.id}`)).map((m) => messageJson(i, m)) : [])), pending: left.length });
  } else {
    for (const o of outcomes) ctx.err(outcomeLine(o, true));
    if (!outcomes.length) ctx.err('Nothing to send.');
  }
  if (left.length) {
    if (ctx.json) return 1;
    throw new OperationError(`${left.length} message${left.length === 1 ? '' : 's'} not sent; \`ir outbox\` lists ${left.length === 1 ? 'it' : 'them'}`);
  }
  return 0;
}
