// `ir outbox`: every outbound message not yet sent (pending) or refused by its provider (failed),
// one line each; --all adds the sent ones with the provider's reference.

import type { Command } from 'commander';
import type { Bind } from '../../cli/program.js';
import type { Context } from '../../context.js';
import type { Incident, MessageState } from '../../core/incident.js';
import { boardWidth } from '../incident/board.js';
import { messageJson } from '../incident/render.js';

export { messageJson };

export interface OutboxOptions {
  all?: boolean;
}

const LABEL: Record<string, string> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie', slack: 'Slack' };

export function register(program: Command, ctx: Context, bind: Bind): Command {
  return program
    .command('outbox')
    .description('outbound pages and chat posts (ir.yaml): what is pending or failed; `ir outbox retry` sends them now')
    .option('--all', 'also list the messages that went out')
    .addHelpText('after', '\nExamples:\n  ir outbox\n  ir outbox --all --json\n  ir outbox retry\n  ir outbox retry INC-20261124-001/m2')
    .action(bind((cmd: Command) => run(cmd.opts<OutboxOptions>(), ctx)));
}

/** One line for a message, fitted to `width` when given. */
export function messageLine(incident: Incident, m: MessageState, width?: number): string {
  const tail = m.state === 'sent' ? (m.ref ? `ref ${m.ref}` : '') : `${m.attempts} attempt${m.attempts === 1 ? '' : 's'}${m.error ? `: ${m.error}` : ''}`;
  const line = `${incident.id}/${m.id}  ${LABEL[m.provider] ?? m.provider} ${m.action} → ${m.target}  ${m.state}${tail ? `  ${tail}` : ''}`;
  return width && line.length > width ? `${line.slice(0, Math.max(10, width - 1))}…` : line;
}

export async function run(opts: OutboxOptions, ctx: Context): Promise<number> {
  const store = await ctx.store();
  const incidents = await store.listIncidents({ all: true });
  const rows = incidents.flatMap((i) => (i.messages ?? []).filter((m) => opts.all || m.state !== 'sent').map((m) => ({ incident: i, message: m })));
  if (ctx.json) {
    ctx.printJson({ messages: rows.map((r) => messageJson(r.incident, r.message)) });
    return 0;
  }
  if (!rows.length) {
    ctx.out(opts.all ? 'No outbound messages recorded.' : 'Nothing waiting: every outbound message went out.');
    return 0;
  }
  const width = boardWidth(ctx.io);
  for (const r of rows) ctx.out(messageLine(r.incident, r.message, width));
  return 0;
}
