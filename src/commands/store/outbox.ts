// What `ir store status` says about the outbox: entries this machine recorded while the team store
// was unreachable and has not delivered yet. Only a team store has one.

import type { Context } from '../../context.js';

export interface OutboxSummary {
  waiting: number;
}

export async function outboxSummary(ctx: Context): Promise<OutboxSummary> {
  const { isTeamUrl } = await import('../../store/open.js');
  if (!isTeamUrl(ctx.storeLocation)) return { waiting: 0 };
  const { TeamStore } = await import('../../store/team/store.js');
  const store = await ctx.store();
  return { waiting: store instanceof TeamStore ? await store.waitingCount() : 0 };
}
