// What `ir store status` says about the outbox: events recorded locally while the team store was
// unreachable, not yet delivered. The outbox itself comes with the team store's offline mode.

import type { Context } from '../../context.js';

export interface OutboxSummary {
  waiting: number;
}

export async function outboxSummary(_ctx: Context): Promise<OutboxSummary> {
  return { waiting: 0 };
}
