// Action items as the timeline records them: added, completed; their current state is derived.

import type { TimelineEvent } from './incident.js';

export interface ActionItem {
  n: number;
  text: string;
  owner?: string;
  due?: string;
  done: boolean;
  doneAt?: string;
  addedAt: string;
  addedBy: string;
}

export function deriveActions(events: TimelineEvent[]): ActionItem[] {
  const items = new Map<number, ActionItem>();
  for (const e of events) {
    if (e.type === 'action.added') {
      const n = Number(e.data.n);
      items.set(n, { n, text: String(e.data.text), owner: e.data.owner ? String(e.data.owner) : undefined, due: e.data.due ? String(e.data.due) : undefined, done: false, addedAt: e.at, addedBy: e.actor });
    } else if (e.type === 'action.done') {
      const item = items.get(Number(e.data.n));
      if (item) {
        item.done = true;
        item.doneAt = e.at;
      }
    } else if (e.type === 'action.reopened') {
      const item = items.get(Number(e.data.n));
      if (item) item.done = false;
    }
  }
  return [...items.values()].sort((a, b) => a.n - b.n);
}
