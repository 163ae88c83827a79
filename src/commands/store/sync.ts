// `ir store sync`: deliver what this machine recorded while the team store was unreachable, and say
// what happened to each entry (delivered, recorded as not applied, kept back) and what still waits.

import type { Command } from 'commander';
import type { Register } from '../../cli/program.js';
import type { Context } from '../../context.js';
import { OperationError, UsageError } from '../../errors.js';

export const register: Register = (group, ctx, bind) => {
  group
    .command('sync')
    .description("deliver this machine's outbox (written while the team store was unreachable) now, in order")
    .addHelpText('after', '\nEvery command that reaches the team store delivers the outbox first; this does it on demand and reports.\n\nExample:\n  IR_STORE=postgres://alice@db.internal:5432/ir ir store sync')
    .action(bind((_cmd: Command) => run(ctx)));
};

export async function run(ctx: Context): Promise<number> {
  const { isTeamUrl } = await import('../../store/open.js');
  if (!isTeamUrl(ctx.storeLocation)) throw new UsageError('ir store sync needs a team store: set IR_STORE or --store to postgres://…');
  const { TeamStore } = await import('../../store/team/store.js');
  const store = await ctx.store();
  if (!(store instanceof TeamStore)) throw new UsageError('ir store sync needs a team store');
  // Opening delivered what was waiting (and said so); a second pass finds anything a concurrent command added.
  const first = store.lastSync;
  const again = store.online ? await store.sync() : undefined;
  const delivered = (first?.delivered ?? 0) + (again?.delivered ?? 0);
  const rejected = [...(first?.rejected ?? []), ...(again?.rejected ?? [])];
  const kept = [...(first?.undeliverable ?? []), ...(again?.undeliverable ?? [])];
  const mapped = [...(first?.mapped ?? []), ...(again?.mapped ?? [])];
  const waiting = await store.waitingCount();
  if (ctx.json) {
    ctx.printJson({ store: store.location, reachable: store.online, delivered, rejected, kept, mapped, waiting, ...(store.online ? {} : { reason: store.unreachableReason }) });
  } else {
    if (again) for (const m of again.mapped) ctx.err(`  ${m.provisional} is now ${m.team}`);
    ctx.out(`${store.location}: ${delivered} delivered${rejected.length ? ` (${rejected.length} recorded as not applied)` : ''}, ${waiting} waiting${kept.length ? `, ${kept.length} kept back (see above)` : ''}`);
  }
  if (!store.online && waiting) throw new OperationError(`team store unreachable (${store.unreachableReason}): ${waiting} still waiting in this machine's outbox`);
  return 0;
}
