// `ir action list [--all]`: the incident's action items, or every open one across incidents.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { deriveActions, type ActionItem } from '../../core/actions.js';
import { columns } from '../../io/format.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('list')
    .description("list the incident's action items (--all: open items of every incident)")
    .option('-a, --all', 'open action items across all incidents')
    .addHelpText('after', '\nExample:\n  ir action list --all')
    .action(bind((cmd: Command) => run(cmd.opts<{ all?: boolean }>(), ctx)));
};

export async function run(opts: { all?: boolean }, ctx: Context): Promise<number> {
  const store = await ctx.store();
  const rows: (ActionItem & { incident: string })[] = [];
  if (opts.all) {
    for (const inc of await store.listIncidents({ all: true })) {
      for (const a of deriveActions(await store.events(inc.id))) if (!a.done) rows.push({ ...a, incident: inc.id });
    }
  } else {
    const inc = await ctx.currentOrLatestIncident();
    for (const a of deriveActions(await store.events(inc.id))) rows.push({ ...a, incident: inc.id });
  }
  if (ctx.json) {
    ctx.printJson({ actions: rows.map((a) => ({ incident: a.incident, n: a.n, text: a.text, owner: a.owner ?? null, due: a.due ?? null, done: a.done, done_at: a.doneAt ?? null })) });
    return 0;
  }
  if (!rows.length) {
    ctx.out('No action items.');
    return 0;
  }
  const today = ctx.now().toISOString().slice(0, 10);
  ctx.out(columns(['INCIDENT', '#', 'STATUS', 'OWNER', 'DUE', 'ACTION'], rows.map((a) => [a.incident, String(a.n), a.done ? 'done' : a.due && a.due < today ? 'OVERDUE' : 'open', a.owner ?? '-', a.due ?? '-', a.text])));
  return 0;
}
